"""A receipt followed up (docs/erasure.md): its keys listed again; an entry that came back is
named; an entry Object Lock retained whose retain-until date has passed (and no legal hold)
is purged now, with the same proof, verify before destroy and journal as the erasure. What
changed is written beside the receipt as followup-<run-id>.json, sealed as the receipt is."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import Field

from syncpurge.data.s3store import S3Store
from syncpurge.erasure.keys import start_marker
from syncpurge.erasure.publish import Signer
from syncpurge.erasure.receipt import (
    DIGEST_ALGORITHM,
    BucketMapping,
    Digest,
    EntryRef,
    Receipt,
    Signature,
    Wire,
    digest_of,
    read_sealed,
    sealed_bytes,
)
from syncpurge.erasure.recheck import CheckResult, FoundEntry, check_receipt
from syncpurge.models import Entry, Outcome, PlannedEntry, Proof, Rule
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings
from syncpurge.phases.purge import purge_plan
from syncpurge.phases.report import BatchJournal, ReportDestination

FOLLOWUP_FORMAT = "syncpurge-erasure-followup/1"


class ReleasedEntry(EntryRef):
    """A retained entry whose date passed, and what its purge gave."""

    bucket: str
    bucket_key: str
    outcome: str  # purged | retained | failed | skipped
    reason: str | None = None
    proof: str | None = None
    at: datetime


class FollowUp(Wire):
    format: str = FOLLOWUP_FORMAT
    erasure_id: str
    receipt_digest: str  # the receipt this follows up, by its digest
    checked_at: datetime
    checked_by: str  # the run that checked it
    came_back: list[FoundEntry] = Field(default_factory=list)
    released: list[ReleasedEntry] = Field(default_factory=list)


class SealedFollowUp(Wire):
    follow_up: FollowUp
    digest: Digest
    signature: Signature | None = None


@dataclass(slots=True)
class FollowedUp:
    """What a follow-up found of one receipt."""

    came_back: list[FoundEntry] = field(default_factory=list)
    released: list[ReleasedEntry] = field(default_factory=list)

    @property
    def purged(self) -> int:
        return sum(1 for e in self.released if e.outcome == Outcome.PURGED.value)


@dataclass(frozen=True, slots=True)
class FollowUpRun:
    """What a follow-up runs with: the stores, the receipt's folder, a clock, who checks."""

    source: S3Store
    target: S3Store
    folder: ReportDestination
    clock: Callable[[], datetime]
    checked_by: str
    signer: Signer | None = None
    # Whether retained entries past their date may be purged: only for a receipt the
    # caller trusts (a deployment: signed by its own key) in a run that may delete.
    may_release: bool = False


def follow_up(name: str, body: bytes, run: FollowUpRun) -> FollowedUp:
    """Check one receipt; purge what its retention released (when `run.may_release`);
    write what changed."""
    receipt = read_sealed(body, name)
    now = run.clock()
    check = check_receipt(receipt, lambda b: _store(run, receipt.receipt, b), now)
    done = FollowedUp(came_back=check.came_back)
    for target in receipt.receipt.inputs.targets if run.may_release else ():
        plan = release_plan(check, receipt.receipt.inputs.source, target, now)
        if plan:
            done.released += _release(run, receipt.receipt, target, plan)
    if done.came_back or done.released:
        _write(run, receipt.receipt.erasure_id, receipt.digest.value, now, done)
    return done


def release_plan(
    check: CheckResult, source: BucketMapping, target: BucketMapping, now: datetime
) -> list[PlannedEntry]:
    """The entries of `target` the receipt left retained whose retain-until date is past and
    that no legal hold keeps: each a vanished-key candidate with proof `vanished` (the
    source is listed again before the delete, as in the erasure)."""
    found = [e for e in [*check.still_left, *check.came_back] if e.bucket == target.bucket]
    per_key = Counter(e.bucket_key for e in found)
    due = [
        e
        for e in check.still_left
        if e.bucket == target.bucket
        and e.bucket_key.startswith(target.root)
        and e.outcome == Outcome.RETAINED.value
        and e.retain_until is not None
        and e.retain_until <= now
        and not e.legal_hold
    ]
    plan = []
    for entry in sorted(due, key=lambda e: (e.bucket_key, e.is_latest)):
        source_key = source.root + entry.key
        ended = entry.retain_until.isoformat() if entry.retain_until else "?"
        plan.append(
            PlannedEntry(
                Entry(
                    entry.bucket_key,
                    entry.version_id,
                    entry.is_latest,
                    entry.last_modified,
                    entry.kind == "delete-marker",
                    entry.size,
                ),
                Rule.VANISHED_KEY,
                f"its Object Lock retention ended {ended}",
                proof=Proof.VANISHED,
                source_key=source_key,
                source_predecessor=start_marker(source_key),
                key_entries=per_key[entry.bucket_key],
            )
        )
    return plan


def _release(
    run: FollowUpRun, receipt: Receipt, target: BucketMapping, plan: list[PlannedEntry]
) -> list[ReleasedEntry]:
    released: list[ReleasedEntry] = []

    def on_outcome(record: OutcomeRecord) -> None:
        entry = record.planned.entry
        released.append(
            ReleasedEntry(
                version_id=entry.version_id,
                kind="delete-marker" if entry.is_delete_marker else "version",
                last_modified=entry.last_modified,
                size=entry.size,
                bucket=target.bucket,
                bucket_key=entry.key,
                outcome=record.outcome.value,
                reason=record.error or record.reason,
                proof=record.planned.proof.value if record.planned.proof else None,
                at=run.clock(),
            )
        )

    purge_plan(
        plan,
        source=run.source,
        target=run.target,
        settings=PurgeSettings(
            target_bucket=target.bucket,
            source_bucket=receipt.inputs.source.bucket,
            target_object_lock=True,
        ),
        on_outcome=on_outcome,
        journal=BatchJournal(run.folder, receipt.erasure_id, stem=f"followup-{run.checked_by}-"),
    )
    return released


def _store(run: FollowUpRun, receipt: Receipt, buckets: list[str]) -> S3Store:
    return run.source if buckets == [receipt.inputs.source.bucket] else run.target


def _write(run: FollowUpRun, erasure_id: str, digest: str, now: datetime, done: FollowedUp) -> None:
    follow = FollowUp(
        erasure_id=erasure_id,
        receipt_digest=digest,
        checked_at=now,
        checked_by=run.checked_by,
        came_back=done.came_back,
        released=done.released,
    )
    value = digest_of(follow)
    sealed = SealedFollowUp(
        follow_up=follow,
        digest=Digest(algorithm=DIGEST_ALGORITHM, value=value.hex()),
        signature=run.signer(value) if run.signer is not None else None,
    )
    body = sealed_bytes(sealed)
    # Named by the checking run: a receipt's follow-ups never overwrite one another.
    run.folder.write(f"followup-{run.checked_by}.json", body, "application/json")
