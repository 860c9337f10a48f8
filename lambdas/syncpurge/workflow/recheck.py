"""RecheckErasures: after every run's report, the erasure receipts of the last
`eraseCheckDays` in the deployment's report folder are followed up (`erasure.followup`): a
key that came back is notified and counted (the handler's metric ErasedKeysReappeared,
alarmed), and retained entries whose date passed are purged, with a follow-up file.

The step runs unattended after every run, so it trusts a receipt only as far as it can
prove it: one that is not of this deployment (another pair or mapping, a key outside its
scope, a folder not its own) is never acted on; entries are purged only for a receipt
signed by the deployment's own key, and never in a run that may not delete (a dry run, a
deployment that requires approval). A receipt it can't follow up is counted and notified,
and the others are still followed up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from syncpurge.erasure.followup import FollowUpRun, follow_up
from syncpurge.erasure.publish import RECEIPT_FILE, Signer
from syncpurge.erasure.receipt import Mismatch, SealedReceipt, Signature, read_sealed
from syncpurge.errors import SyncPurgeError
from syncpurge.phases.report import StoreDestination
from syncpurge.phases.verify import ListingStalled
from syncpurge.workflow.context import RunContext, RunEvent, Stores, place_buckets
from syncpurge.workflow.erase import admitted

# Whether a signature is the deployment's receipt key's over a digest (KMS Verify).
Verifier = Callable[[bytes, Signature], bool]


class EraseEvent(RunEvent):
    """The Erase function's event: a run to erase for, or (`recheck`) to follow up after."""

    recheck: bool = False


class NotOurs(Exception):
    """A receipt this deployment did not write as it stands: never acted on."""


def recheck_step(
    event: RunEvent,
    stores: Stores,
    *,
    signer: Signer | None,
    verifier: Verifier | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    should_stop: Callable[[], bool] = lambda: False,
) -> dict[str, Any]:
    """Follow up each recent receipt, the newest first; the counts, and a notification of
    what came back or could not be followed up. Near the Lambda's time limit
    (`should_stop`) the rest are left to the next run, counted and named as deferred."""
    run = event.run
    found = {
        "receipts": 0,
        "cameBack": 0,
        "released": 0,
        "unreadable": 0,
        "failed": 0,
        "deferred": 0,
    }
    if run.config.erase_check_days == 0:
        return found
    place_buckets(stores, run)
    notes: list[str] = []
    for folder in reversed(recent_erasures(run, stores, clock())):
        if should_stop():
            found["deferred"] += 1
            continue
        where = folder + RECEIPT_FILE
        body = stores.files.get_bytes_or_none(run.report.bucket, where)
        if body is None:
            continue  # a run, not an erasure
        name = stores.files.shown(run.report.bucket, where)
        try:
            came_back, released = _follow(
                run, stores, folder, name, body, signer=signer, verifier=verifier, clock=clock
            )
        except (Mismatch, NotOurs) as err:
            found["unreadable"] += 1
            notes.append(f"{name}: not followed up: {err}")
            continue
        except (SyncPurgeError, ListingStalled, ClientError, BotoCoreError) as err:
            found["failed"] += 1
            notes.append(f"{name}: could not be followed up ({type(err).__name__}: {err})")
            continue
        found["receipts"] += 1
        found["cameBack"] += len(came_back)
        found["released"] += released
        notes += came_back
    if found["deferred"]:
        notes.append(
            f"{found['deferred']} older run folders were not followed up before the step's "
            "time limit: the next run follows them up"
        )
    if notes:
        notify(run, stores, notes, came_back=found["cameBack"])
    return found


def _follow(
    run: RunContext,
    stores: Stores,
    folder: str,
    name: str,
    body: bytes,
    *,
    signer: Signer | None,
    verifier: Verifier | None,
    clock: Callable[[], datetime],
) -> tuple[list[str], int]:
    """One receipt followed up: what came back (as notification lines), entries released."""
    sealed = read_sealed(body, name)
    check_ours(run, folder, sealed)
    checked = folder + f"followup-{run.run_id}.json"
    if stores.files.get_bytes_or_none(run.report.bucket, checked) is not None:
        return [], 0  # this run followed it up already (a retried step): never twice
    done = follow_up(
        name,
        body,
        FollowUpRun(
            source=stores.source,
            target=stores.target,
            folder=StoreDestination(stores.files, run.report.bucket, folder),
            clock=clock,
            checked_by=run.run_id,
            signer=signer,
            may_release=signed_by_us(sealed, verifier) and not run.request.dry_run,
        ),
    )
    lines = [f"s3://{e.bucket}/{e.bucket_key} {e.version_id} ({name})" for e in done.came_back]
    return lines, done.purged


def check_ours(run: RunContext, folder: str, sealed: SealedReceipt) -> None:
    """Refuse a receipt this deployment did not write: its folder, its pair and mapping,
    and every key in its scope, as the Erase step would have had them."""
    receipt = sealed.receipt
    scope = run.scope_model
    inputs = receipt.inputs
    pair = (
        (inputs.source.bucket, inputs.source.root),
        [(t.bucket, t.root) for t in inputs.targets],
    )
    ours = (
        (run.config.source_bucket, scope.source_root),
        [(run.config.target_bucket, scope.target_root)],
    )
    if not folder.endswith(f"/{receipt.erasure_id}/") and folder != f"{receipt.erasure_id}/":
        raise NotOurs(f"its erasure id {receipt.erasure_id!r} is not its folder's")
    if pair != ours:
        raise NotOurs("its buckets and roots are not this deployment's")
    admits = admitted(run)
    outside = [k.key for k in receipt.keys if not admits(k.key)]
    if outside:
        raise NotOurs(f"its key {outside[0]!r} lies outside this deployment's scope")


def signed_by_us(sealed: SealedReceipt, verifier: Verifier | None) -> bool:
    """Whether the receipt carries the deployment key's signature over its digest."""
    signature = sealed.signature
    if verifier is None or signature is None:
        return False
    return verifier(bytes.fromhex(sealed.digest.value), signature)


def recent_erasures(run: RunContext, stores: Stores, now: datetime) -> list[str]:
    """The run folders beside this run's that began within eraseCheckDays (run ids sort by
    their start time), this run's own and any dated in the future excepted."""
    root = run.report.prefix.rstrip("/").rpartition("/")[0]
    root = f"{root}/" if root else ""
    since = f"{root}{now - timedelta(days=run.config.erase_check_days):%Y%m%dT%H%M%SZ}"
    until = f"{root}{now + timedelta(days=1):%Y%m%dT%H%M%SZ}"
    folders = stores.s3.folders_after(run.report.bucket, root, since)
    return [f for f in folders if f != run.report.prefix and f < until]


def notify(run: RunContext, stores: Stores, notes: list[str], *, came_back: int) -> None:
    topic = run.config.notification_topic_arn
    if not topic or stores.notifications is None:
        return
    shown = "\n".join(notes[:50]) + (f"\n… and {len(notes) - 50} more" if len(notes) > 50 else "")
    subject = (
        f"syncpurge: {came_back} erased entries came back"
        if came_back
        else "syncpurge: erasure receipts could not be followed up"
    )
    days = run.config.erase_check_days
    stores.notifications.publish(
        topic,
        subject,
        f"Run {run.run_id} followed up the erasure receipts of the last {days} days. "
        "Entries listed as came back are of keys a receipt says are gone (a restore from "
        f"backup, a late replica, a re-upload):\n{shown}",
    )
