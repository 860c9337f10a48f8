"""The resurrection check (docs/design.md §15): a receipt's keys listed again on each of its
buckets. An entry the receipt did not leave behind came back: a restore from backup, a late
replica, a re-upload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import Field

from syncpurge.data.s3store import S3Store
from syncpurge.erasure.listing import list_key_set
from syncpurge.erasure.receipt import EntryRef, SealedReceipt, Wire


class FoundEntry(EntryRef):
    key: str  # as named
    bucket: str
    bucket_key: str
    is_latest: bool = False
    # For an entry the receipt left: what kept it then (retained, failed...), and its lock.
    outcome: str | None = None
    retain_until: datetime | None = None
    legal_hold: bool = False


class CheckResult(Wire):
    erasure_id: str
    checked_at: datetime
    keys: int
    buckets: list[str]
    came_back: list[FoundEntry] = Field(default_factory=list)
    still_left: list[FoundEntry] = Field(default_factory=list)  # as the receipt left them

    def lines(self) -> list[str]:
        head = (
            f"checked {self.keys:,} keys of erasure {self.erasure_id} on "
            f"{', '.join(self.buckets)} at {self.checked_at.isoformat()}"
        )
        lines = [head]
        lines += [
            f"CAME BACK: s3://{e.bucket}/{e.bucket_key} {e.kind} {e.version_id} "
            f"(last modified {e.last_modified.isoformat()})"
            for e in self.came_back
        ]
        lines += [
            f"still left, as the receipt says: s3://{e.bucket}/{e.bucket_key} {e.version_id}"
            + (f" (retained until {e.retain_until.isoformat()})" if e.retain_until else "")
            for e in self.still_left
        ]
        verdict = (
            f"{len(self.came_back):,} entries came back"
            if self.came_back
            else "no erased key came back"
        )
        return [*lines, verdict]


def check_receipt(
    sealed: SealedReceipt,
    open_store: Callable[[list[str]], S3Store],
    now: datetime,
) -> CheckResult:
    """List the receipt's keys on each of its buckets; what the receipt did not leave there
    came back. The receipt is one read back as sealed (`read_sealed`): its digest holds."""
    receipt = sealed.receipt
    mappings = [receipt.inputs.source, *receipt.inputs.targets]
    result = CheckResult(
        erasure_id=receipt.erasure_id,
        checked_at=now,
        keys=len(receipt.keys),
        buckets=[f"s3://{m.bucket}/{m.root}" for m in mappings],
    )
    for mapping in mappings:
        left = {
            (part.bucket_key, entry.version_id): entry
            for key in receipt.keys
            for part in key.buckets
            if part.bucket == mapping.bucket and part.bucket_key.startswith(mapping.root)
            for entry in part.left
        }
        store = open_store([mapping.bucket])
        bucket_keys = {mapping.root + key.key: key.key for key in receipt.keys}
        listed = list_key_set(store, mapping.bucket, list(bucket_keys), lambda: now)
        for bucket_key, found in listed.items():
            for entry in found.entries:
                known = left.get((bucket_key, entry.version_id))
                seen = FoundEntry(
                    key=bucket_keys[bucket_key],
                    bucket=mapping.bucket,
                    bucket_key=bucket_key,
                    version_id=entry.version_id,
                    kind="delete-marker" if entry.is_delete_marker else "version",
                    last_modified=entry.last_modified,
                    size=None if entry.is_delete_marker else entry.size,
                    is_latest=entry.is_latest,
                    outcome=known.outcome if known else None,
                    retain_until=known.retain_until if known else None,
                    legal_hold=known.legal_hold if known else False,
                )
                (result.still_left if known else result.came_back).append(seen)
    return result
