"""One delivery of queued S3 events to the event path's function (DESIGN §13).

The queue is where events wait out their hold: a message whose hold has not passed goes
back to the queue, invisible until it has (SQS keeps it durably; a visibility timeout can
be up to 12 hours, so a longer hold takes several round trips). Everything else is decided
now: the deployment's scope (its task's locations and filters, as a batch run reads them),
the brake's state (kept in the workspace), the hour's report.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from syncpurge.data.aws import QueueGateway
from syncpurge.deletes import PurgeSettings
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.events.hourly import HourlyReport, add_batch, run_id_for
from syncpurge.events.notices import DeletionNotice, parse_notice
from syncpurge.events.path import (
    BrakeState,
    EventBatchResult,
    EventScope,
    EventSettings,
    process_notices,
)
from syncpurge.models import Mode, ReconcileRequest, Summary
from syncpurge.report import BatchJournal, S3ReportDestination, write_summary_doc
from syncpurge.workflow.context import (
    WORKSPACE_PREFIX,
    Location,
    Stores,
    Wire,
    expect_owners,
    find_regions,
    get_json,
    put_json,
)
from syncpurge.workflow.prepare import report_location, run_scope
from syncpurge.workflow.verdict import last_refusal

MAX_VISIBILITY_SECONDS = 12 * 3600  # SQS ChangeMessageVisibility's ceiling


class EventPathConfig(Wire):
    """The deployment's settings the event path runs with (its function's environment)."""

    source_bucket: str
    target_bucket: str
    report_bucket: str
    task_arn: str = ""
    mode: Mode = Mode.DATASYNC
    prefixes: list[str] = Field(default_factory=list)
    source_account: str = ""
    target_account: str = ""
    report_account: str = ""
    # The deployment's requireApproval: a person approves every purge, so none goes here.
    require_approval: bool = False
    source_region: str = ""
    target_region: str = ""
    queue_url: str = ""  # where held messages go back to
    hold_minutes: int = Field(default=60, ge=0)
    max_purge_per_hour: int = Field(default=1000, ge=1)
    notification_topic_arn: str = ""


@dataclass
class QueuedEvent:
    message_id: str
    body: str
    receipt_handle: str = ""


@dataclass
class Delivery:
    """What became of one delivery: messages to return to the queue, and for how long."""

    result: EventBatchResult
    return_after: dict[str, int] = field(default_factory=dict)  # message id -> seconds
    malformed: list[str] = field(default_factory=list)  # message ids: to the dead-letter queue
    report: str = ""


# The brake's state, in the deployment's workspace.
EVENTS_FOLDER = f"{WORKSPACE_PREFIX}events/"
BRAKE_FILE = "brake.json"


def consume(
    messages: list[QueuedEvent], *, config: EventPathConfig, stores: Stores, now: datetime
) -> Delivery:
    """Decide the delivery's due keys, purge what is proven, report the hour."""
    notices: dict[str, DeletionNotice] = {}
    malformed: list[str] = []
    for message in messages:
        try:
            notice = parse_notice(json.loads(message.body))
        except (InvalidInput, ValueError):
            malformed.append(message.message_id)
            continue
        if notice is not None:
            notices[message.message_id] = notice
    expect_owners(stores, config)
    facts = None
    if config.task_arn:  # the scope is the task's locations and filters, as a batch run's
        if stores.datasync is None:
            raise PreflightRefused("a DataSync task is configured but no DataSync client was given")
        facts = stores.datasync.task_facts(config.task_arn)
    run_id = run_id_for(now)
    report = report_location(config.report_bucket, facts, run_id)
    work = Location(bucket=config.report_bucket, prefix=EVENTS_FOLDER)
    regions = find_regions(stores, config, [config.source_bucket, config.target_bucket])
    stores.s3.place(regions)
    request = ReconcileRequest(mode=config.mode, prefixes=config.prefixes)
    scope = run_scope(config, facts, report, work)
    brake = BrakeState.model_validate(get_json(stores, work, BRAKE_FILE) or {})
    destination = S3ReportDestination(stores.s3, report.bucket, report.prefix)
    hourly = _stored_hour(stores, report) or HourlyReport(
        summary=Summary.begun(
            request,
            run_id=run_id,
            source_bucket=config.source_bucket,
            target_bucket=config.target_bucket,
            source_region=regions.get(config.source_bucket),
            target_region=regions.get(config.target_bucket),
            scope=scope.describe(),
            started_at=now,
        )
    )
    result = process_notices(
        notices.values(),
        now=now,
        where=EventScope(config.source_bucket, config.target_bucket, scope, request),
        settings=EventSettings(timedelta(minutes=config.hold_minutes), config.max_purge_per_hour),
        brake=brake,
        source=stores.s3,
        target=stores.s3,
        purge=PurgeSettings(target_bucket=config.target_bucket, source_bucket=config.source_bucket),
        journal=BatchJournal(destination, run_id, stem=f"batch-{hourly.batches + 1:05d}-"),
        batch_refused=last_refusal(stores, config.report_bucket),
    )
    put_json(stores, work, BRAKE_FILE, brake.model_dump(mode="json", by_alias=True))
    add_batch(hourly, result, destination, now=now, mode=config.mode)
    write_summary_doc(destination, hourly.document())
    location = f"s3://{report.bucket}/{report.prefix}"
    if result.brake_tripped and config.notification_topic_arn and stores.notifications:
        stores.notifications.publish(
            config.notification_topic_arn,
            f"syncpurge event path latched off: s3://{config.target_bucket}",
            f"{brake.reason}\nreport: {location}\nresume: syncpurge events resume --stack "
            "<stack>\n",
        )
    held = {id(n) for n in result.held}
    return_after = {
        message_id: _seconds_until(notice.time + timedelta(minutes=config.hold_minutes), now)
        for message_id, notice in notices.items()
        if id(notice) in held
    }
    return Delivery(result, return_after, malformed, location)


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
