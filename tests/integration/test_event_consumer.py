"""One queued delivery through the event path's consumer, on moto (issue 20): the hour's
report, the hold as a return to the queue, the brake's latch kept in the workspace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from syncpurge.data.aws import NotificationGateway
from syncpurge.data.s3store import S3Store
from syncpurge.events.consumer import (
    BRAKE_FILE,
    EVENTS_FOLDER,
    EventPathConfig,
    QueuedEvent,
    consume,
)
from syncpurge.workflow.context import Stores
from tests.helpers import BucketPair, read_run_report
from tests.integration.test_event_path import erased_version

pytestmark = pytest.mark.integration

REPORTS = "event-reports"


def eventbridge(pair: BucketPair, key: str, version_id: str, at: datetime) -> str:
    """The body EventBridge puts on the queue for a permanent delete at the source."""
    return json.dumps(
        {
            "version": "0",
            "id": f"id-{key}-{version_id}",
            "detail-type": "Object Deleted",
            "source": "aws.s3",
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "detail": {
                "bucket": {"name": pair.source},
                "object": {"key": key, "version-id": version_id, "sequencer": "0A"},
                "deletion-type": "Permanently Deleted",
                "reason": "DeleteObject",
            },
        }
    )


def queued_at(body: str) -> datetime | None:
    """When the queue took an event: as EventBridge delivers it, at the event's time."""
    try:
        return datetime.fromisoformat(json.loads(body)["time"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError):
        return None


def deliver(
    pair: BucketPair,
    bodies: list[str],
    now: datetime,
    sent_at: datetime | None = None,
    stores: Stores | None = None,
    **settings: Any,
) -> Any:
    s3 = S3Store(pair.client)
    sns = boto3.client("sns", region_name="us-east-1")
    config = EventPathConfig(
        source_bucket=pair.source, target_bucket=pair.target, report_bucket=REPORTS, **settings
    )
    messages = [
        QueuedEvent(f"m{i}", body, sent_at=sent_at or queued_at(body))
        for i, body in enumerate(bodies)
    ]
    stores = stores or Stores(s3, notifications=NotificationGateway(sns))
    return consume(messages, config=config, stores=stores, now=now)


@pytest.fixture
def reports(pair: BucketPair) -> str:
    pair.client.create_bucket(Bucket=REPORTS)
    return REPORTS


def test_a_due_event_is_purged_and_reported_under_the_hour_s_run_id(
    pair: BucketPair, reports: str
) -> None:
    event, orphan = erased_version(pair)
    seen = datetime.now(UTC) + timedelta(seconds=1)
    body = eventbridge(pair, "a.txt", event.version_id, seen)
    deliver(pair, [body], seen)  # first seen when the queue took it: held
    now = seen + timedelta(minutes=61)

    delivery = deliver(pair, [body, body], now)

    run_id = f"events-{now:%Y-%m-%dT%H}"
    assert delivery.report == f"s3://{reports}/Purge-Reports/no-task/{run_id}/"
    summary, lines = read_run_report(pair.client, reports, run_id)
    assert [(line["versionId"], line["outcome"]) for line in lines] == [(orphan, "purged")]
    assert summary["status"] == "SUCCEEDED"
    assert summary["totals"]["purged"] == 1
    events = summary["events"]
    assert (events["received"], events["distinctKeys"], events["purged"]) == (2, 1, 1)
    assert events["latencyP50"] is not None
    assert events["latencyP50"] < 120  # seconds past the hold
    journal = pair.client.list_objects_v2(
        Bucket=reports, Prefix=f"Purge-Reports/no-task/{run_id}/journal/"
    )
    assert journal["KeyCount"] == 1


def test_an_event_in_its_hold_goes_back_to_the_queue_until_the_hold_ends(
    pair: BucketPair, reports: str
) -> None:
    event, _ = erased_version(pair)
    now = datetime.now(UTC) + timedelta(seconds=1)
    before = pair.entries()

    delivery = deliver(pair, [eventbridge(pair, "a.txt", event.version_id, now)], now)

    assert delivery.return_after == {"m0": 3600}
    assert pair.entries() == before


def test_the_brake_latches_in_the_workspace_and_the_hour_reads_guard_tripped(
    pair: BucketPair, reports: str
) -> None:
    events = [erased_version(pair, f"k{i}.txt")[0] for i in range(2)]
    now = datetime.now(UTC) + timedelta(seconds=1)
    bodies = [eventbridge(pair, e.key_text, e.version_id, now) for e in events]
    before = pair.entries()

    delivery = deliver(pair, bodies, now, hold_minutes=0, max_purge_per_hour=1)

    assert delivery.result.brake_tripped
    assert pair.entries() == before
    brake = json.loads(
        pair.client.get_object(Bucket=reports, Key=f"{EVENTS_FOLDER}{BRAKE_FILE}")["Body"].read()
    )
    assert brake["latched"] is True
    summary, _ = read_run_report(pair.client, reports, f"events-{now:%Y-%m-%dT%H}")
    assert summary["status"] == "GUARD_TRIPPED"
    assert summary["events"]["leftToBatch"] == 2
    # latched: a later delivery decides nothing until resumed
    again = deliver(pair, bodies, now + timedelta(minutes=1), hold_minutes=0)
    assert again.result.latched
    assert pair.entries() == before


def test_a_body_that_is_no_event_goes_to_the_dead_letter_queue(
    pair: BucketPair, reports: str
) -> None:
    delivery = deliver(pair, ["not json", json.dumps({"source": "aws.s3"})], datetime.now(UTC))

    assert delivery.malformed == ["m0"]
    assert delivery.result.received == 0
