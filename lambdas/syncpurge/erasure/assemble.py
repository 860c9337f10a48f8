"""The receipt of an erasure, assembled from what it listed, purged and listed again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syncpurge.data.bucket_facts import VersionLock
from syncpurge.erasure.keys import Copy
from syncpurge.erasure.listing import KeyListing
from syncpurge.erasure.receipt import (
    BucketMapping,
    ErasureInputs,
    KeyInBucket,
    KeyReceipt,
    LeftEntry,
    Listing,
    PurgedEntry,
    Receipt,
    Totals,
    Verdict,
)
from syncpurge.erasure.run import ErasureRequest, ErasureResult, TargetErasure
from syncpurge.models import Entry, Outcome
from syncpurge.phases.deletes import OutcomeRecord

# Reads a version's Object Lock (bucket, key, version id): on a target that has it.
LockReader = Callable[[str, str, str], VersionLock]


def kind(entry: Entry) -> str:
    return "delete-marker" if entry.is_delete_marker else "version"


def _listing(found: KeyListing) -> Listing:
    return Listing(at=found.at, request_id=found.request_id)


def source_part(key: str, source: Copy, after: KeyListing) -> KeyInBucket:
    """The source's part of a key's receipt: it held nothing (or the erasure was refused);
    an entry the listing after shows was written there since."""
    left = [
        LeftEntry(**_entry_fields(e), outcome="held-by-source", reason="written at the source")
        for e in after.entries
    ]
    return KeyInBucket(
        bucket=source.bucket,
        role="source",
        bucket_key=source.bucket_key(key),
        verdict=Verdict.HELD_BY_SOURCE if left else Verdict.GONE,
        held_before=0,
        left=left,
        listed_after=_listing(after),
    )


def _entry_fields(entry: Entry) -> dict[str, object]:
    return {
        "version_id": entry.version_id,
        "kind": kind(entry),
        "last_modified": entry.last_modified,
        "size": None if entry.is_delete_marker else entry.size,
    }


def target_part(
    key: str,
    target: TargetErasure,
    answers: dict[str, tuple[OutcomeRecord, datetime]],
    lock_of: LockReader,
) -> KeyInBucket:
    """A target's part of a key's receipt. `answers`: the outcome of each of the key's
    entries the erasure planned, by VersionId."""
    copy = target.copy
    purged = [
        PurgedEntry(
            **_entry_fields(record.planned.entry),
            proof=record.planned.proof.value if record.planned.proof else None,
            deleted_at=at,
        )
        for record, at in answers.values()
        if record.outcome is Outcome.PURGED
    ]
    left = [_left(e, answers.get(e.version_id), target, lock_of) for e in target.after[key].entries]
    if not left:
        verdict = Verdict.GONE
    elif all(e.outcome == Outcome.RETAINED.value for e in left):
        verdict = Verdict.RETAINED
    else:
        verdict = Verdict.FAILED
    return KeyInBucket(
        bucket=copy.bucket,
        role="target",
        bucket_key=copy.bucket_key(key),
        verdict=verdict,
        held_before=len(target.before[key].entries),
        purged=purged,
        left=left,
        listed_after=_listing(target.after[key]),
    )


def _left(
    entry: Entry,
    answer: tuple[OutcomeRecord, datetime] | None,
    target: TargetErasure,
    lock_of: LockReader,
) -> LeftEntry:
    """An entry still listed after the erasure, with what kept it."""
    fields = _entry_fields(entry)
    if answer is None:
        return LeftEntry(
            **fields, outcome="failed", reason="not planned: written after the erasure began"
        )
    record = answer[0]
    # Only a version can be locked (a delete marker has no retention).
    lockable = target.object_lock and not entry.is_delete_marker
    lock = lock_of(target.copy.bucket, entry.key, entry.version_id) if lockable else None
    locked = lock is not None and (lock.mode is not None or lock.legal_hold)
    outcome = record.outcome.value
    if record.outcome is Outcome.RETAINED and not locked:
        outcome = "failed"  # DeleteObjects said locked, but nothing holds it now
    elif record.outcome is Outcome.PURGED:
        outcome = "failed"  # S3 said deleted, and the listing still shows it
    return LeftEntry(
        **fields,
        outcome=outcome,
        reason=record.error or record.reason,
        lock_mode=lock.mode if lock else None,
        retain_until=lock.retain_until if lock else None,
        legal_hold=lock.legal_hold if lock else False,
    )


def assemble(
    request: ErasureRequest,
    result: ErasureResult,
    *,
    erasure_id: str,
    finished_at: datetime,
    tool: str,
    caller: str,
    lock_of: LockReader,
) -> Receipt:
    answers: list[dict[str, dict[str, tuple[OutcomeRecord, datetime]]]] = []
    for target in result.targets:
        by_key: dict[str, dict[str, tuple[OutcomeRecord, datetime]]] = {}
        for record, at in target.outcomes:
            relative = record.planned.entry.key[len(target.copy.root) :]
            by_key.setdefault(relative, {})[record.planned.entry.version_id] = (record, at)
        answers.append(by_key)
    keys = [
        KeyReceipt(
            key=key,
            buckets=[
                source_part(key, request.source, result.source_after[key]),
                *(
                    target_part(key, target, answers[n].get(key, {}), lock_of)
                    for n, target in enumerate(result.targets)
                ),
            ],
        )
        for key in result.keys
    ]
    return Receipt(
        erasure_id=erasure_id,
        started_at=result.started_at,
        finished_at=finished_at,
        tool=tool,
        caller=caller,
        inputs=ErasureInputs(
            keys=list(result.keys),
            keys_file=request.keys_file,
            prefix=request.prefix,
            source=BucketMapping(bucket=request.source.bucket, root=request.source.root),
            targets=[BucketMapping(bucket=t.bucket, root=t.root) for t in request.targets],
            max_purge=request.max_purge,
            force=request.force,
            bypass_governance=request.bypass_governance,
            allow_unrelated_source=request.allow_unrelated_source,
        ),
        totals=_totals(keys),
        keys=keys,
    )


def _totals(keys: list[KeyReceipt]) -> Totals:
    parts = [part for key in keys for part in key.buckets]
    return Totals(
        keys=len(keys),
        purged=sum(len(p.purged) for p in parts),
        retained=sum(1 for p in parts for e in p.left if e.outcome == Outcome.RETAINED.value),
        failed=sum(1 for p in parts for e in p.left if e.outcome != Outcome.RETAINED.value),
        not_found=sum(1 for key in keys if not any(p.held_before for p in key.buckets)),
    )
