"""One delivery of queued S3 events to the event path's function (docs/design.md §13).

The queue is where events wait out their hold: a message whose hold has not passed goes
back to the queue, invisible until it has (SQS keeps it durably; a visibility timeout can
be up to 12 hours, so a longer hold takes several round trips). Everything else is decided
now: the deployment's scope (its task's locations and filters, as a batch run reads them),
the brake's state (kept in the workspace), the hour's report.
"""

from __future__ import annotations

import dataclasses
import json
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from syncpurge.core.policy import STATE_PREFIX, Place, PolicySettings, build_policy
from syncpurge.data.aws import QueueGateway
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.events.holds import S3Holds
from syncpurge.events.hourly import HourlyReport, add_batch, run_id_for
from syncpurge.events.notices import DeletionNotice, parse_notice
from syncpurge.events.path import (
    BrakeState,
    EventBatchResult,
    EventScope,
    EventSettings,
    EventState,
    process_notices,
)
from syncpurge.models import ReconcileRequest
from syncpurge.phases.deletes import PurgeSettings
from syncpurge.phases.preflight import check_pair
from syncpurge.phases.report import BatchJournal, StoreDestination, write_summary_doc
from syncpurge.summary import Summary
from syncpurge.workflow.context import (
    DeploymentSettings,
    Location,
    Stores,
    expect_owners,
    find_regions,
    get_json,
    put_json,
)
from syncpurge.workflow.verdict import last_refusal

MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS ChangeMessageVisibility's ceiling


class EventPathConfig(DeploymentSettings):
    """The deployment's settings the event path runs with (its function's environment)."""

    queue_url: str = ""  # where held messages go back to
    hold_minutes: int = Field(default=60, ge=0)
    max_purge_per_hour: int = Field(default=1000, ge=1)

    def policy_settings(self) -> PolicySettings:
        return dataclasses.replace(
            super().policy_settings(),
            hold_minutes=self.hold_minutes,
            max_purge_per_hour=self.max_purge_per_hour,
        )


@dataclass
class QueuedEvent:
    message_id: str
    body: str
    receipt_handle: str = ""
    sent_at: datetime | None = None  # SQS SentTimestamp: when the queue took it


@dataclass
class Delivery:
    """What became of one delivery: messages to return to the queue, and for how long."""

    result: EventBatchResult
    return_after: dict[str, int] = field(default_factory=dict)  # message id -> seconds
    malformed: list[str] = field(default_factory=list)  # message ids: to the dead-letter queue
    report: str = ""


# The event path's state: under the deployment's state folder, which no lifecycle rule
# expires and only the event path's role writes (a latched brake must not reset itself).
EVENTS_FOLDER = f"{STATE_PREFIX}events/"
BRAKE_FILE = "brake.json"
HOLDS_FOLDER = "holds/"


def consume(
    messages: list[QueuedEvent], *, config: EventPathConfig, stores: Stores, now: datetime
) -> Delivery:
    """Decide the delivery's due keys, purge what is proven, report the hour. The run's
    policy is the batch path's (`syncpurge.core.policy`): a refusal there writes nothing."""
    notices, malformed = parse_messages(messages)
    expect_owners(stores, config)
    facts = None
    if config.task_arn:  # the scope is the task's locations and filters, as a batch run's
        if stores.datasync is None:
            raise PreflightRefused("a DataSync task is configured but no DataSync client was given")
        facts = stores.datasync.task_facts(config.task_arn)
    run_id = run_id_for(now)
    state = Location(bucket=config.report_bucket, prefix=EVENTS_FOLDER)
    policy = build_policy(
        config.policy_settings(),
        facts,
        ReconcileRequest(mode=config.mode),
        run_id=run_id,
        workspace=Place(state.bucket, state.prefix),
    )
    report = Location(bucket=str(policy.report.bucket), prefix=policy.report.prefix)
    regions = find_regions(stores, config, [config.source_bucket, config.target_bucket])
    stores.s3.place(regions)
    # As every batch door's preflight: each bucket answers as its expected owner, with
    # versioning on (and no MFA Delete on the target), or the delivery is refused by name
    # before anything is written or deleted.
    check_pair(stores.s3, stores.s3, config.source_bucket, config.target_bucket)
    brake = BrakeState.model_validate(get_json(stores, state, BRAKE_FILE) or {})
    destination = StoreDestination(stores.s3, report.bucket, report.prefix)
    hourly = _stored_hour(stores, report) or HourlyReport(
        summary=Summary.begun(
            policy.request,
            run_id=run_id,
            source_bucket=config.source_bucket,
            target_bucket=config.target_bucket,
            source_region=regions.get(config.source_bucket),
            target_region=regions.get(config.target_bucket),
            scope=policy.scope.describe(),
            started_at=now,
        )
    )
    # Unique to this delivery: a delivery that died in the same hour named nothing after it.
    delivery_id = f"{now:%H%M%S}-{secrets.token_hex(4)}"
    result = process_notices(
        notices.values(),
        now=now,
        where=EventScope(config.source_bucket, config.target_bucket, policy.scope, policy.request),
        settings=EventSettings(timedelta(minutes=config.hold_minutes), config.max_purge_per_hour),
        state=EventState(
            holds=S3Holds(stores.s3, state.bucket, state.key(HOLDS_FOLDER)),
            brake=brake,
            save_brake=lambda b: put_json(
                stores, state, BRAKE_FILE, b.model_dump(mode="json", by_alias=True)
            ),
        ),
        source=stores.s3,
        target=stores.s3,
        purge=PurgeSettings(target_bucket=config.target_bucket, source_bucket=config.source_bucket),
        journal=BatchJournal(destination, run_id, stem=f"batch-{delivery_id}-"),
        refused=policy.unattended_refusal() or last_refusal(stores, config.report_bucket),
    )
    add_batch(hourly, result, destination, now=now, mode=config.mode, delivery_id=delivery_id)
    write_summary_doc(destination, hourly.document())
    location = f"s3://{report.bucket}/{report.prefix}"
    if result.brake_tripped and config.notification_topic_arn and stores.notifications:
        stores.notifications.publish(
            config.notification_topic_arn,
            f"syncpurge event path latched off: s3://{config.target_bucket}",
            f"{brake.reason}\nreport: {location}\nresume: syncpurge events resume --stack "
            "<stack>\n",
        )
    held = {id(notice): until for notice, until in result.held}
    return_after = {
        message_id: _seconds_until(held[id(notice)], now)
        for message_id, notice in notices.items()
        if id(notice) in held
    }
    return Delivery(result, return_after, malformed, location)


def parse_messages(messages: list[QueuedEvent]) -> tuple[dict[str, DeletionNotice], list[str]]:
    """message id -> its notice, and the ids of the malformed ones (to the DLQ). A message
    the queue did not date holds from its claim; the hold book's first sight of the key
    bounds that (syncpurge.events.holds)."""
    notices: dict[str, DeletionNotice] = {}
    malformed: list[str] = []
    for message in messages:
        try:
            notice = parse_notice(json.loads(message.body), message.sent_at)
        except (InvalidInput, ValueError):
            malformed.append(message.message_id)
            continue
        if notice is not None:
            notices[message.message_id] = notice
    return notices, malformed


def _seconds_until(due: datetime, now: datetime) -> int:
    return max(1, min(MAX_VISIBILITY_SECONDS, math.ceil((due - now).total_seconds())))


def _stored_hour(stores: Stores, report: Location) -> HourlyReport | None:
    """The hour's report so far, if a batch of this hour wrote one."""
    doc = get_json(stores, report, "summary.json")
    if doc is None:
        return None
    events, batches = doc.pop("events", {}), doc.pop("batches", 0)
    return HourlyReport(summary=Summary.model_validate(doc), events=events, batches=batches)


def receive(
    messages: list[QueuedEvent],
    *,
    config: EventPathConfig,
    stores: Stores,
    queue: QueueGateway,
    now: datetime,
) -> tuple[dict[str, Any], Delivery]:
    """One SQS delivery, answered as Lambda's partial batch response: the messages held
    (returned to the queue, invisible until their hold ends) and the malformed ones are the
    batch's failures; every other message is done with, whatever its key's decision."""
    delivery = consume(messages, config=config, stores=stores, now=now)
    receipts = {m.message_id: m.receipt_handle for m in messages}
    for message_id, seconds in delivery.return_after.items():
        queue.return_after(config.queue_url, receipts[message_id], seconds)
    failures = [*delivery.return_after, *delivery.malformed]
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}, delivery
