"""The purge (DESIGN §5): DeleteObjects in full batches, several in flight, outcome per entry.

Outcomes come only from DeleteObjects' Deleted and Errors arrays. Entries S3 did not
account for, and entries that failed with a retryable error, are sent again; after the last
attempt they are `failed` with the error, never silently dropped.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from syncpurge.diff import is_folder_object
from syncpurge.models import Outcome, PlannedEntry, Rule, SkipReason
from syncpurge.s3store import MAX_KEYS_PER_DELETE, S3Store


@dataclass(slots=True, frozen=True)
class OutcomeRecord:
    planned: PlannedEntry
    outcome: Outcome
    reason: str
    error: str | None = None


@dataclass(slots=True, frozen=True)
class PurgeSettings:
    target_bucket: str
    source_bucket: str
    bypass_governance: bool = False
    target_object_lock: bool = False
    max_in_flight: int = 4
    attempts: int = 4
    backoff_seconds: float = 0.2


OutcomeSink = Callable[[OutcomeRecord], None]


def skipped_record(item: PlannedEntry) -> OutcomeRecord:
    assert item.skip is not None
    return OutcomeRecord(item, Outcome.SKIPPED, item.skip.value)


def purge_plan(
    plan: Iterable[PlannedEntry],
    *,
    source: S3Store,
    target: S3Store,
    settings: PurgeSettings,
    on_outcome: OutcomeSink,
) -> None:
    """Delete every to-purge entry of `plan`; report every entry's outcome, in plan order."""
    verifier = VanishedKeyVerifier(source, settings.source_bucket)
    in_flight: deque[Future[list[OutcomeRecord]]] = deque()
    workers = max(1, settings.max_in_flight)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="syncpurge-delete") as pool:

        def submit(batch: list[PlannedEntry]) -> None:
            reappeared = verifier.reappeared(
                [
                    (p.mapped_source_key, p.source_predecessor)
                    for p in batch
                    if p.rule is Rule.VANISHED_KEY
                ]
            )
            to_delete: list[PlannedEntry] = []
            for item in batch:
                if item.rule is Rule.VANISHED_KEY and item.mapped_source_key in reappeared:
                    on_outcome(OutcomeRecord(item, Outcome.SKIPPED, SkipReason.REAPPEARED.value))
                else:
                    to_delete.append(item)
            if to_delete:
                in_flight.append(pool.submit(delete_batch, target, to_delete, settings))
            while len(in_flight) >= workers:
                for record in in_flight.popleft().result():
                    on_outcome(record)

        batch: list[PlannedEntry] = []
        for item in plan:
            if not item.to_purge:
                on_outcome(skipped_record(item))
                continue
            batch.append(item)
            if len(batch) == MAX_KEYS_PER_DELETE:
                submit(batch)
                batch = []
        if batch:
            submit(batch)
        while in_flight:
            for record in in_flight.popleft().result():
                on_outcome(record)


def delete_batch(
    target: S3Store, batch: Sequence[PlannedEntry], settings: PurgeSettings
) -> list[OutcomeRecord]:
    remaining = {(p.entry.key, p.entry.version_id): p for p in batch}
    records: list[OutcomeRecord] = []
    last_error: dict[tuple[str, str], str] = {}
    for attempt in range(settings.attempts):
        if attempt:
            time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
        try:
            result = target.delete_versions(
                settings.target_bucket,
                list(remaining),
                bypass_governance=settings.bypass_governance,
            )
        except (ClientError, BotoCoreError) as err:
            # botocore has already retried this call; retry the batch at this level too.
            for ref in remaining:
                last_error[ref] = f"DeleteObjects failed: {err}"
            continue
        for ref in result.deleted:
            item = remaining.pop(ref, None)
            if item is not None:
                records.append(OutcomeRecord(item, Outcome.PURGED, item.detail))
        for failure in result.errors:
            message = f"{failure.code}: {failure.message}"
            for ref in _refs_of(failure.key, failure.version_id, remaining):
                if failure.code == "AccessDenied":
                    item = remaining.pop(ref)
                    if settings.target_object_lock:
                        records.append(
                            OutcomeRecord(item, Outcome.RETAINED, "object lock", message)
                        )
                    else:
                        records.append(
                            OutcomeRecord(item, Outcome.FAILED, "access denied", message)
                        )
                else:
                    last_error[ref] = message
        if not remaining:
            break
    for ref, item in remaining.items():
        error = last_error.get(ref, "not reported by DeleteObjects as deleted or failed")
        records.append(OutcomeRecord(item, Outcome.FAILED, "retries exhausted", error))
    return records


def _refs_of(
    key: str, version_id: str, remaining: dict[tuple[str, str], PlannedEntry]
) -> list[tuple[str, str]]:
    """The requested entries an Errors item speaks of.

    S3 names the VersionId; an S3-compatible store that omits it speaks of every entry of
    that key in the request (still only retried or reported, never assumed deleted).
    """
    if version_id:
        return [(key, version_id)] if (key, version_id) in remaining else []
    return [ref for ref in remaining if ref[0] == key]


class VanishedKeyVerifier:
    """Verify before destroy: re-list the source right before deleting a vanished key.

    Listings use Prefix only (no KeyMarker, whose meaning differs between S3-compatible
    stores). A vanished key is listed under its *cluster prefix*: the key cut one character
    past what it shares with its source predecessor, a range in which, at diff time, no
    source key sorted before it. One page there answers for every pending vanished key
    the page covers, so a run of vanished keys (a deleted "folder") shares a LIST.
    """

    def __init__(self, source: S3Store, bucket: str) -> None:
        self.source = source
        self.bucket = bucket
        self._last: tuple[str, bool] | None = None  # a key spanning batches is listed once

    def reappeared(self, keys: Sequence[tuple[str, str | None]]) -> set[str]:
        predecessors: dict[str, str | None] = {}
        for key, predecessor in keys:
            predecessors.setdefault(key, predecessor)
        found: set[str] = set()
        if self._last is not None and self._last[0] in predecessors:
            key, again = self._last
            del predecessors[key]
            if again:
                found.add(key)
        if not predecessors:
            return found
        pending = sorted(predecessors)
        exact = False
        while pending:
            key = pending[0]
            prefix = key if exact else cluster_prefix(key, predecessors[key])
            page = self.source.verify_page(self.bucket, prefix)
            seen = {e.key for e in page.entries}
            last_seen = page.entries[-1].key if page.entries else None
            covered = {
                k
                for k in pending
                if k.startswith(prefix)
                and (not page.is_truncated or (last_seen is not None and _covers(last_seen, k)))
            }
            found.update(k for k in covered if k in seen or _folder_has_content(k, seen))
            # A full page of keys that appeared since the diff covered nothing: list the
            # key itself, which always resolves it (it sorts first under its own prefix).
            exact = not covered
            pending = [k for k in pending if k not in covered]
        last_key = max(predecessors)
        self._last = (last_key, last_key in found)
        return found


def _covers(last_seen: str, key: str) -> bool:
    # A folder object's content sorts right after it: the page must reach past the folder.
    return key < last_seen if is_folder_object(key) else key <= last_seen


def _folder_has_content(key: str, seen: set[str]) -> bool:
    """A DataSync folder object is not vanished while the source holds a key under it."""
    return is_folder_object(key) and any(s.startswith(key) for s in seen)


def cluster_prefix(key: str, source_predecessor: str | None) -> str:
    """The shortest prefix of `key` that excludes its source predecessor."""
    if source_predecessor is None:
        return key[:1]
    shared = len(os.path.commonprefix([source_predecessor, key]))  # noqa: RUF071
    return key[: shared + 1]
