"""RecheckErasures: after every run's report, the erasure receipts of the last
`eraseCheckDays` in the deployment's report folder are followed up (`erasure.followup`): a
key that came back is notified and counted (the handler's metric ErasedKeysReappeared,
alarmed), and retained entries whose date passed are purged, with a follow-up file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from syncpurge.erasure.followup import FollowUpRun, follow_up
from syncpurge.erasure.publish import RECEIPT_FILE, Signer
from syncpurge.erasure.receipt import Mismatch
from syncpurge.phases.report import StoreDestination
from syncpurge.workflow.context import RunContext, RunEvent, Stores, place_buckets


class EraseEvent(RunEvent):
    """The Erase function's event: a run to erase for, or (`recheck`) to follow up after."""

    recheck: bool = False


def recheck_step(
    event: RunEvent,
    stores: Stores,
    *,
    signer: Signer | None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Follow up each recent receipt; the counts, and a notification when a key came back."""
    run = event.run
    found = {"receipts": 0, "cameBack": 0, "released": 0, "unreadable": 0}
    if run.config.erase_check_days == 0:
        return found
    place_buckets(stores, run)
    back: list[str] = []
    for folder in recent_erasures(run, stores, clock()):
        body = stores.files.get_bytes_or_none(run.report.bucket, folder + RECEIPT_FILE)
        if body is None:
            continue  # a run, not an erasure
        name = stores.files.shown(run.report.bucket, folder + RECEIPT_FILE)
        followed = FollowUpRun(
            source=stores.source,
            target=stores.target,
            folder=StoreDestination(stores.files, run.report.bucket, folder),
            clock=clock,
            checked_by=run.run_id,
            signer=signer,
        )
        try:
            done = follow_up(name, body, followed)
        except Mismatch:
            found["unreadable"] += 1  # named in the notification below
            back.append(f"{name}: the receipt no longer matches its digest")
            continue
        found["receipts"] += 1
        found["cameBack"] += len(done.came_back)
        found["released"] += done.purged
        back += [f"s3://{e.bucket}/{e.bucket_key} {e.version_id} ({name})" for e in done.came_back]
    if back:
        notify(run, stores, back)
    return found


def recent_erasures(run: RunContext, stores: Stores, now: datetime) -> list[str]:
    """The run folders beside this run's that began within eraseCheckDays (run ids sort by
    their start time), this run's own excepted."""
    root = run.report.prefix.rstrip("/").rpartition("/")[0]
    root = f"{root}/" if root else ""
    since = now - timedelta(days=run.config.erase_check_days)
    after = f"{root}{since:%Y%m%dT%H%M%SZ}"
    folders = stores.s3.folders_after(run.report.bucket, root, after)
    return [f for f in folders if f != run.report.prefix]


def notify(run: RunContext, stores: Stores, back: list[str]) -> None:
    topic = run.config.notification_topic_arn
    if not topic or stores.notifications is None:
        return
    shown = "\n".join(back[:50]) + (f"\n… and {len(back) - 50} more" if len(back) > 50 else "")
    stores.notifications.publish(
        topic,
        f"syncpurge: {len(back)} erased entries came back",
        "Entries of keys an erasure receipt says are gone are back (a restore from backup, a "
        f"late replica, a re-upload); run {run.run_id} found:\n{shown}",
    )
