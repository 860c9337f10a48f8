"""The purge (docs/design.md §5): DeleteObjects in full batches, several in flight, an
outcome per entry.

What a reader of the target sees never changes except to vanish (invariant 6): a key's
current entry is held back and sent only once every other planned entry of that key is
confirmed gone (`purged` or `already-absent`); if any of them stays (retained by Object
Lock, failed, reappeared), the current entry stays too (`protects-current`). A batch is
written to the journal before it is sent (invariant 8). Every entry gets one outcome.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from itertools import groupby

from syncpurge.data.s3store import MAX_KEYS_PER_DELETE, S3Store
from syncpurge.errors import ListingFailed
from syncpurge.models import Outcome, PlannedEntry, Rule, SkipReason
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings, delete_batch
from syncpurge.phases.verify import VanishedKeyVerifier, VanishedRef, Verdict

__all__ = ["OutcomeRecord", "PurgeSettings", "PurgeStopped", "purge_plan", "skipped_record"]

OutcomeSink = Callable[[OutcomeRecord], None]
# Writes a batch before it is sent; returns where (its journal file), if anywhere.
Journal = Callable[[list[PlannedEntry]], str | None]
# How long a stopped purge (Ctrl-C, an error) waits for the batches already sent.
DRAIN_SECONDS = 60.0


class PurgeStopped(Exception):
    """`should_stop` said yes: the purge sent nothing more, and accounted for what it had."""


@dataclass(slots=True)
class SentBatch:
    """A DeleteObjects batch on the wire: its answer to come, and where it was journaled."""

    future: Future[list[OutcomeRecord]]
    batch: list[PlannedEntry]
    journaled: str | None

    def unanswered(self, why: str) -> list[OutcomeRecord]:
        """Its entries when no answer came: reported as such, never left out (invariant 8)."""
        where = f" (journal: {self.journaled})" if self.journaled else ""
        error = f"{why}: S3 may or may not have deleted it{where}"
        return [OutcomeRecord(item, Outcome.FAILED, "no-answer", error) for item in self.batch]


def skipped_record(item: PlannedEntry) -> OutcomeRecord:
    """A planned skip's report line; an unverifiable entry's says why in its error."""
    assert item.skip is not None
    why = item.detail if item.skip is SkipReason.UNVERIFIABLE else None
    return OutcomeRecord(item, Outcome.SKIPPED, item.skip.value, why)


def unpurged_record(item: PlannedEntry) -> OutcomeRecord:
    """A plan line's report line in a run that purges nothing (a dry run, a tripped guard,
    PRESERVE): planned, or skipped with the plan's reason."""
    if item.to_purge:
        return OutcomeRecord(item, Outcome.PLANNED, item.detail)
    return skipped_record(item)


def confirmed_gone(record: OutcomeRecord) -> bool:
    return record.outcome is Outcome.PURGED or record.reason == SkipReason.ALREADY_ABSENT


def protects_current(current: PlannedEntry, detail: str) -> OutcomeRecord:
    return OutcomeRecord(current, Outcome.SKIPPED, SkipReason.PROTECTS_CURRENT.value, detail)


class CurrentLast:
    """Holds each key's current entry until the key's other planned entries are settled.

    A long key's plan may be split over chunks or slices, so the entries planned with its
    current entry here can be fewer than the key had: then the current entry goes only if
    a listing shows it is all that is left of the key.
    """

    def __init__(self, target: S3Store, bucket: str) -> None:
        self.target = target
        self.bucket = bucket
        self.held: dict[str, tuple[PlannedEntry, int]] = {}
        self.waiting: dict[str, int] = {}
        self.spoiled: set[str] = set()

    def hold(self, current: PlannedEntry, others: int) -> None:
        key = current.entry.key
        self.held[key] = (current, others)
        self.waiting[key] = others

    def release(self, current: PlannedEntry, others: int) -> OutcomeRecord | PlannedEntry:
        """The current entry to send, or its skip record, its `others` confirmed gone."""
        if others + 1 >= current.key_entries:
            return current
        entry = current.entry
        try:
            only = self.target.holds_only(self.bucket, entry.key, entry.version_id)
        except ListingFailed as failure:
            why = f"its current entry stays: what is left of the key can't be listed: {failure}"
            return OutcomeRecord(current, Outcome.SKIPPED, SkipReason.UNVERIFIABLE.value, why)
        if only:
            return current
        return protects_current(
            current, "other entries of the key are still in the bucket; its current entry stays"
        )

    def settled(self, record: OutcomeRecord) -> OutcomeRecord | PlannedEntry | None:
        """Note one outcome; returns the key's current entry to send, or its skip record."""
        key = record.planned.entry.key
        if record.planned.entry.is_latest or key not in self.waiting:
            return None
        if not confirmed_gone(record):
            self.spoiled.add(key)
        self.waiting[key] -= 1
        if self.waiting[key]:
            return None
        del self.waiting[key]
        current, others = self.held.pop(key)
        if key in self.spoiled:
            self.spoiled.discard(key)
            return protects_current(
                current, "another entry of the key was not deleted; its current entry stays"
            )
        return self.release(current, others)


def _unverified(item: PlannedEntry, verdict: Verdict) -> OutcomeRecord | None:
    """A vanished key's entry that verify says must stay: its skip record."""
    key = item.mapped_source_key
    if key in verdict.unverifiable:
        why = verdict.unverifiable[key]
        return OutcomeRecord(item, Outcome.SKIPPED, SkipReason.UNVERIFIABLE.value, why)
    if key in verdict.reappeared:
        return OutcomeRecord(item, Outcome.SKIPPED, SkipReason.REAPPEARED.value)
    return None


def purge_plan(
    plan: Iterable[PlannedEntry],
    *,
    source: S3Store,
    target: S3Store,
    settings: PurgeSettings,
    on_outcome: OutcomeSink,
    journal: Journal | None = None,
    drain_seconds: float = DRAIN_SECONDS,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Delete every to-purge entry of `plan`; report each entry's outcome exactly once.

    Whatever stops it (Ctrl-C, an error), the batches already sent are waited for, up to
    `drain_seconds` in all, and their outcomes reported; an entry whose answer never came is
    reported `failed` / `no-answer`, naming its journal batch. A sent batch leaves the
    in-flight queue only once its answer is in hand, and an answer's records leave theirs
    only once reported, so an interrupt at any instant loses none. `should_stop` is asked
    before each key and each batch: once it says yes, the purge stops so (no batch is sent
    and no held current entry released after), and raises PurgeStopped.
    """
    verifier = VanishedKeyVerifier(source, settings.source_bucket)
    order = CurrentLast(target, settings.target_bucket)
    queue: deque[PlannedEntry] = deque()
    in_flight: deque[SentBatch] = deque()
    answered: deque[OutcomeRecord] = deque()
    workers = max(1, settings.max_in_flight)

    def report_release(released: OutcomeRecord | PlannedEntry | None) -> None:
        if isinstance(released, OutcomeRecord):
            on_outcome(released)
        elif released is not None:
            queue.append(released)

    def report(records: Iterable[OutcomeRecord], *, release: bool = True) -> None:
        answered.extend(records)
        while answered:
            record = answered[0]
            on_outcome(record)
            answered.popleft()
            if release:
                report_release(order.settled(record))

    def settle_oldest() -> None:
        sent = in_flight[0]
        records = sent.future.result()
        in_flight.popleft()
        report(records)

    def send(batch: list[PlannedEntry], pool: ThreadPoolExecutor) -> None:
        # Asked before every batch, not only between keys: a purge past its last key sends
        # its last batches, and the current entries they release, from the loop below.
        if should_stop is not None and should_stop():
            raise PurgeStopped
        vanished = [p for p in batch if p.rule is Rule.VANISHED_KEY]
        verdict = verifier.check(
            [
                VanishedRef(p.mapped_source_key, p.source_predecessor, not p.entry.is_delete_marker)
                for p in vanished
            ]
        )
        to_delete, skipped = [], []
        for item in batch:
            record = _unverified(item, verdict) if item.rule is Rule.VANISHED_KEY else None
            if record is not None:
                skipped.append(record)
            else:
                to_delete.append(item)
        report(skipped)
        if to_delete:
            journaled = journal(to_delete) if journal is not None else None
            future = pool.submit(delete_batch, target, to_delete, settings)
            in_flight.append(SentBatch(future, to_delete, journaled))

    def pump(pool: ThreadPoolExecutor, *, partial: bool) -> None:
        while len(queue) >= MAX_KEYS_PER_DELETE or (partial and queue):
            send([queue.popleft() for _ in range(min(MAX_KEYS_PER_DELETE, len(queue)))], pool)
            while len(in_flight) >= workers:
                settle_oldest()

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="syncpurge-delete")
    try:
        for _, group in groupby(plan, key=lambda p: p.entry.key):
            if should_stop is not None and should_stop():
                raise PurgeStopped
            current, others = None, 0
            for item in group:
                if not item.to_purge:
                    on_outcome(skipped_record(item))
                elif item.entry.is_latest:
                    current = item
                else:
                    queue.append(item)
                    others += 1
                    pump(pool, partial=False)
            if current is not None and others:
                order.hold(current, others)
            elif current is not None:
                report_release(order.release(current, 0))
            pump(pool, partial=False)
        while queue or in_flight:
            # A partial batch goes only when nothing in flight could still release a
            # held current entry to fill it: full batches keep DELETEs at the bound.
            if len(queue) >= MAX_KEYS_PER_DELETE or not in_flight:
                pump(pool, partial=True)
            else:
                settle_oldest()
    finally:
        # Whatever stopped the loop, the batches already sent are accounted for; nothing
        # new is sent (a held current entry stays).
        deadline = time.monotonic() + drain_seconds
        report((), release=False)
        while in_flight:
            sent = in_flight[0]
            try:
                records = sent.future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                records = sent.unanswered("no answer before the run stopped")
            except Exception as err:
                records = sent.unanswered(f"DeleteObjects raised {type(err).__name__}: {err}")
            in_flight.popleft()
            report(records, release=False)
        pool.shutdown(wait=False, cancel_futures=True)
