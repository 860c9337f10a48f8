"""The event path against the review of issue 28's change: a delete whose event is still
in flight gets its hold (R4), an undated message is due once its hold passes (R5), the
event path refuses what the batch path's preflight refuses (R6) and a source emptied under
the prefixes (R7), and one odd message goes to the dead-letter queue alone (R8)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncpurge.data.s3store import S3Store
from syncpurge.errors import PreflightRefused
from syncpurge.events.consumer import EventPathConfig, QueuedEvent, consume
from syncpurge.models import ReconcileRequest
from syncpurge.workflow.context import Stores
from tests.engine_runs import engine_policy, engine_run
from tests.helpers import BucketPair
from tests.integration.test_event_consumer import REPORTS, deliver, eventbridge
from tests.integration.test_event_path import erased_version

pytestmark = pytest.mark.integration

HOUR = timedelta(minutes=60)


@pytest.fixture
def reports(pair: BucketPair) -> str:
    pair.client.create_bucket(Bucket=REPORTS)
    return REPORTS


def test_a_delete_whose_event_is_still_in_flight_gets_no_hold(
    pair: BucketPair, reports: str
) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    versions = []
    for body in ("one", "two!", "three"):
        versions.append(pair.put("a.txt", body))
        pair.sync()
    copies = sorted(
        pair.client.list_object_versions(Bucket=pair.target, Prefix="a.txt")["Versions"],
        key=lambda v: v["LastModified"],
    )
    copy_of_v2 = copies[1]["VersionId"]
    # T0: v1 erased; its event is delivered and held for an hour
    e1 = eventbridge(pair, "a.txt", versions[0], t0)
    pair.delete_version("a.txt", versions[0])
    assert deliver(pair, [e1], t0).return_after == {"m0": 3600}
    # T0+59m59s: v2 erased; its event is on its way (not delivered yet)
    pair.delete_version("a.txt", versions[1])

    # T0+60m: E1 comes back alone
    due = deliver(pair, [e1], t0 + HOUR)

    gone = {(r.planned.entry.version_id) for r in due.result.records}
    # v2's copy must wait an hour after its own delete; it went one second after it
    assert copy_of_v2 not in gone


def test_a_decoy_key_s_due_event_decides_another_key_with_no_hold(
    pair: BucketPair, reports: str
) -> None:
    # The victim 'x y' written twice and synced
    v1 = pair.put("x y", "one")
    pair.sync()
    pair.put("x y", "two!")
    pair.sync()
    # T0: the attacker erases a version of a decoy key 'x+y' it made itself
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    d1 = pair.put("x+y", "d1")
    pair.put("x+y", "d2")
    pair.sync()
    decoy = eventbridge(pair, "x+y", d1, t0)
    pair.delete_version("x+y", d1)
    assert deliver(pair, [decoy], t0).return_after == {"m0": 3600}
    # T0+59m59s: the attacker erases the victim's first version (event in flight)
    pair.delete_version("x y", v1)
    before = {v for k, v, _ in pair.entries(pair.target) if k == "x y"}

    deliver(pair, [decoy], t0 + HOUR)

    after = {v for k, v, _ in pair.entries(pair.target) if k == "x y"}
    assert after == before, "'x y' purged a second after its delete, on the decoy's hold"


def test_an_undated_message_is_due_once_its_hold_has_passed(pair: BucketPair, reports: str) -> None:
    event, _orphan = erased_version(pair)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    body = eventbridge(pair, "a.txt", event.version_id, t0)
    config = EventPathConfig(source_bucket=pair.source, target_bucket=pair.target,
                             report_bucket=REPORTS)  # fmt: skip
    stores = Stores(S3Store(pair.client))
    first = consume([QueuedEvent("m0", body)], config=config, stores=stores, now=t0)
    assert first.return_after == {"m0": 3600}
    # returned after its hour, and again, and again
    later = [
        consume(
            [QueuedEvent("m0", body)],
            config=config,
            stores=stores,
            now=t0 + timedelta(minutes=61 * n),
        ).return_after
        for n in (1, 2)
    ]
    assert later[-1] == {}, later


def test_a_suspended_source_is_refused_by_the_batch_path_and_the_event_path(
    pair: BucketPair, reports: str, tmp_path: Path
) -> None:
    pair.put_live()
    v1 = pair.put("a.txt", "one")
    pair.sync()
    pair.client.put_bucket_versioning(
        Bucket=pair.source, VersioningConfiguration={"Status": "Suspended"}
    )
    pair.delete_version("a.txt", v1)  # a.txt vanished from the source
    before = pair.entries()

    batch = engine_run(
        engine_policy(pair.source, pair.target, ReconcileRequest(max_purge_fraction=1.0)),
        source=S3Store(pair.client), target=S3Store(pair.client), report=tmp_path,
    )  # fmt: skip
    assert batch.refusal
    assert "versioning" in batch.refusal
    assert pair.entries() == before

    now = datetime.now(UTC) + timedelta(seconds=1)
    event = eventbridge(pair, "a.txt", v1, now - timedelta(hours=2))
    with pytest.raises(PreflightRefused, match="versioning Suspended"):
        deliver(pair, [event], now, hold_minutes=0)

    assert pair.entries() == before


def test_a_source_emptied_under_the_prefixes_is_refused_when_other_keys_fill_a_page(
    pair: BucketPair, reports: str
) -> None:
    for i in range(1001):  # keys outside the deployment's prefixes, sorting first
        pair.client.put_object(Bucket=pair.source, Key=f"archive/{i:05d}", Body=b"x")
    v1 = pair.put("data/a.txt", "one")
    pair.sync()
    pair.delete_version("data/a.txt", v1)  # the source now holds nothing under data/
    before = {v for k, v, _ in pair.entries(pair.target) if k == "data/a.txt"}
    assert before

    now = datetime.now(UTC) + timedelta(seconds=1)
    then = now - timedelta(hours=2)
    delivery = deliver(pair, [eventbridge(pair, "data/a.txt", v1, then)], now, sent_at=then,
                       prefixes=["data/"], hold_minutes=0)  # fmt: skip

    assert delivery.result.refused, "a source empty in scope must be refused"
    assert {v for k, v, _ in pair.entries(pair.target) if k == "data/a.txt"} == before


def odd(pair: BucketPair, **change: object) -> str:
    body = json.loads(eventbridge(pair, "x", "v", datetime.now(UTC)))
    if "key" in change:
        body["detail"]["object"]["key"] = change["key"]
    if "time" in change:
        body["time"] = change["time"]
    return json.dumps(body)


@pytest.mark.parametrize(
    "change", [{"time": "2026-01-01T00:00:00"}, {"key": "\ud800"}], ids=["naive-time", "surrogate"]
)
def test_an_odd_message_goes_to_the_dlq_alone(
    pair: BucketPair, reports: str, change: dict[str, str]
) -> None:
    event, _ = erased_version(pair)
    now = datetime.now(UTC) + timedelta(seconds=1)
    good = eventbridge(pair, "a.txt", event.version_id, now - timedelta(hours=2))
    config = EventPathConfig(source_bucket=pair.source, target_bucket=pair.target,
                             report_bucket=REPORTS, hold_minutes=0)  # fmt: skip
    messages = [QueuedEvent("good", good, sent_at=now - timedelta(hours=2)),
                QueuedEvent("odd", odd(pair, **change), sent_at=now)]  # fmt: skip

    delivery = consume(messages, config=config, stores=Stores(S3Store(pair.client)), now=now)

    assert delivery.malformed == ["odd"]
