"""Diff: one work item, until done or near the Lambda's time limit (then a cursor)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any

from pydantic import Field

from syncpurge.core.diff import DiffCursor, InsideKey, SideCursor
from syncpurge.core.lineage import LineageIndex
from syncpurge.core.plan import (
    PlanCounts,
    encode_lines,
    line_problem,
    plan_from_json,
    plan_to_json,
)
from syncpurge.core.rules import Candidate, DiffPolicy, PendingProof
from syncpurge.errors import InvalidInput
from syncpurge.models import KeyHistory, PlannedEntry
from syncpurge.phases.cutting import relative_key_limit
from syncpurge.phases.diffing import NullProgress, ProgressListener, diff_scope
from syncpurge.workflow.context import (
    RunContext,
    Stores,
    Wire,
    chunk_writer,
    put_json,
)
from syncpurge.workflow.plan import (
    MAX_ITEMS_PER_SLOT,
    WorkItem,
    lineage_name,
)
from syncpurge.workflow.ranges import Sampler
from syncpurge.workflow.recut import Remainder, cut_remainder, write_remainder

# A cursor rides in the state machine's payload (256 KiB in all).
MAX_CARRIED_COPIES = 1_000


class InsideModel(Wire):
    """A diff stopped inside a long key (`syncpurge.core.diff.InsideKey`) on the wire."""

    key: str
    after_version: str
    seen: int
    segments: int
    shared: bool
    purged: int
    source_predecessor: str | None = None
    current: dict[str, Any] | None = None  # the held current entry, as a plan line
    current_pending: str | None = None  # its pending proof's kind ('replica', 'follows')
    # Lineage carried across the stop. Past MAX_CARRIED_COPIES the copies are dropped: a
    # resumed key then proves by content, never less strictly.
    copied: list[str] = Field(default_factory=list)
    lineage_trusted: bool = False
    lineage_doubted: bool = False

    @classmethod
    def of(cls, inside: InsideKey) -> InsideModel:
        current = inside.current
        if current is not None and current.pending is not None:
            assert not current.pending.against  # a current entry's proofs compare nothing
        return cls(
            key=inside.key,
            after_version=inside.after_version,
            seen=inside.seen,
            segments=inside.segments,
            shared=inside.shared,
            purged=inside.purged,
            source_predecessor=inside.source_predecessor,
            current=plan_to_json(current.planned) if current else None,
            current_pending=current.pending.kind if current and current.pending else None,
            copied=sorted(inside.copied) if len(inside.copied) <= MAX_CARRIED_COPIES else [],
            lineage_trusted=inside.lineage_trusted,
            lineage_doubted=inside.lineage_doubted,
        )

    def to_inside(self) -> InsideKey:
        current = None
        if self.current is not None:
            pending = PendingProof(self.current_pending) if self.current_pending else None
            current = Candidate(plan_from_json(self.current), pending)
        return InsideKey(
            self.key,
            self.after_version,
            self.seen,
            self.segments,
            self.shared,
            current,
            self.source_predecessor,
            self.purged,
            frozenset(self.copied),
            self.lineage_trusted,
            self.lineage_doubted,
        )


class CursorModel(Wire):
    after_key: str | None = None
    source_exhausted: bool
    source_marker: list[str] | None = None
    target_exhausted: bool
    target_marker: list[str] | None = None
    inside: InsideModel | None = None

    @classmethod
    def of(cls, cursor: DiffCursor) -> CursorModel:
        return cls(
            after_key=cursor.after_key,
            source_exhausted=cursor.source.exhausted,
            source_marker=list(cursor.source.marker) if cursor.source.marker else None,
            target_exhausted=cursor.target.exhausted,
            target_marker=list(cursor.target.marker) if cursor.target.marker else None,
            inside=InsideModel.of(cursor.inside) if cursor.inside else None,
        )

    def to_cursor(self) -> DiffCursor:
        def side(exhausted: bool, marker: list[str] | None) -> SideCursor:
            return SideCursor(exhausted, (marker[0], marker[1]) if marker else None)

        return DiffCursor(
            self.after_key,
            side(self.source_exhausted, self.source_marker),
            side(self.target_exhausted, self.target_marker),
            self.inside.to_inside() if self.inside else None,
        )


class Progress(Wire):
    done: bool = False
    slice: int = 0
    cursor: CursorModel | None = None
    listed: int = 0  # Diff: entries (both sides) the item's slices have diffed so far
    hand_back_at: int = 0  # ... and at how many it next tries to hand back (0: its plan's)
    chunk: int = 0  # Purge: which of the item's plan chunks, and the line in it
    offset: int = 0


class PlanReader:
    """An item's plan chunks, read one at a time from a progress's chunk and line, a key's
    entries at a time; `next_progress` says where the next slice starts."""

    def __init__(
        self,
        stores: Stores,
        run: RunContext,
        plan_keys: list[str],
        progress: Progress,
        spans: list[list[str]] | None = None,
    ) -> None:
        self.stores, self.run, self.plan_keys, self.progress = stores, run, plan_keys, progress
        # a stored plan's: each chunk's [first key, last key], as its run recorded them
        self.spans = spans or None
        self.position = (progress.chunk, progress.offset)

    def keys(self, should_stop: Callable[[], bool] | None = None) -> Iterator[list[PlannedEntry]]:
        """Each key's entries in plan order, until the plan ends or `should_stop` says yes
        between two keys."""
        for index, (_, group) in enumerate(groupby(self._lines(), key=_key_of_placed)):
            if index and should_stop is not None and should_stop():
                return
            placed = list(group)
            yield [planned for _, planned in placed]
            self.position = placed[-1][0]
        self.position = (len(self.plan_keys), 0)

    def _lines(self) -> Iterator[tuple[tuple[int, int], PlannedEntry]]:
        """Each entry with its place: (chunk, line number). A line that is no plan entry
        (a stored plan edited by hand) refuses the run, naming its file and line: a
        stored plan is read whole in the Diff, before anything is deleted."""
        start_chunk, start_line = self.progress.chunk, self.progress.offset
        files, bucket = self.stores.files, self.run.workspace.bucket
        for chunk in range(start_chunk, len(self.plan_keys)):
            body = files.get_bytes(bucket, self.plan_keys[chunk])
            start = start_line if chunk == start_chunk else 0
            for number, line in enumerate(body.splitlines()[start:], start + 1):
                if not line.strip():
                    continue
                try:
                    planned = plan_from_json(json.loads(line))
                except (ValueError, KeyError, TypeError) as err:
                    where = files.shown(bucket, self.plan_keys[chunk])
                    raise InvalidInput(
                        f"{where} line {number} is not a plan entry ({line_problem(err)})"
                    ) from None
                if self.spans is not None:
                    self._within_span(chunk, number, planned.entry.key)
                yield (chunk, number), planned

    def _within_span(self, chunk: int, number: int, key: str) -> None:
        assert self.spans is not None
        first, last = self.spans[chunk]
        if not first <= key <= last:
            where = self.stores.files.shown(self.run.workspace.bucket, self.plan_keys[chunk])
            raise InvalidInput(
                f"{where} line {number}: its key lies outside the keys its run recorded for "
                f"this file ({first!r} to {last!r}): not as a run writes a plan"
            )

    def next_progress(self) -> Progress:
        chunk, offset = self.position
        done = chunk >= len(self.plan_keys)
        return Progress(done=done, slice=self.progress.slice + 1, chunk=chunk, offset=offset)


def _key_of_placed(placed: tuple[tuple[int, int], PlannedEntry]) -> str:
    return placed[1].entry.key


class DiffItemEvent(Wire):
    run: RunContext
    item: WorkItem
    progress: Progress = Field(default_factory=Progress)


def diff_item(
    event: DiffItemEvent,
    stores: Stores,
    should_stop: Callable[[], bool] | None = None,
    progress_listener: ProgressListener | None = None,
) -> dict[str, Any]:
    """Diff one work item until done or `should_stop`; returns the next progress. A driver
    that shows the run live gives a `progress_listener` (the entries listed, the plan)."""
    run, item, progress = event.run, event.item, event.progress
    stem = f"{item.index:05d}-{progress.slice:05d}"
    plan = PlanChunks(stores, run, stem)
    sampler = Sampler(item.sample_every, item.up_to)
    listed = ListedEntries(progress.listed, item.up_to)
    limit = progress.hand_back_at or item.hand_back_after
    listener = progress_listener or NullProgress()

    def on_plan(planned: PlannedEntry) -> None:
        plan.write(planned)
        listener.planned(planned)

    stats = diff_scope(
        source=stores.source,
        target=stores.target,
        source_bucket=run.config.source_bucket,
        target_bucket=run.config.target_bucket,
        prefix=item.prefix,
        key_range=item.key_range,
        policy=DiffPolicy(
            mode=run.request.mode,
            rules=frozenset(run.request.rules),
            grace_cutoff=item.grace_cutoff,
            lineage=item_lineage(run, item, stores),
        ),
        on_plan=on_plan,
        progress=listener,
        scope=run.scope_model,
        resume=progress.cursor.to_cursor() if progress.cursor else None,
        should_stop=should_stop,
        should_hand_back=listed.reached(limit),
        sampler=lambda side, histories: listed.wrap(sampler.wrap(side, histories)),
    )
    # Where this slice's listing got to: the next run's Plan cuts on these samples.
    end = stats.cursor.after_key if stats.cursor else item.up_to
    samples = {"prefix": item.prefix, "samples": sampler.close(end)}
    put_json(stores, run.workspace, f"boundaries/{stem}.json", samples)
    plan.close(
        sourceEntries=stats.source_entries,
        targetEntries=stats.target_entries,
        keysInBoth=stats.keys_in_both,
        lineageDoubtedKeys=stats.lineage_doubted_keys,
    )
    # (diff_scope sets handed_back only with a cursor between keys)
    if stats.handed_back and stats.cursor is not None:
        if hand_back(stores, run, item, stats.cursor, listed.entries):
            return Progress(done=True, slice=progress.slice + 1, listed=listed.entries).to_state()
        # The rest was estimated at one piece: go on, and look again after as many more.
        limit = listed.entries + (item.hand_back_after or 0)
    cursor = CursorModel.of(stats.cursor) if stats.cursor else None
    return Progress(
        done=cursor is None,
        slice=progress.slice + 1,
        cursor=cursor,
        listed=listed.entries,
        hand_back_at=limit or 0,
    ).to_state()


class ListedEntries:
    """Counts the entries (both sides) an item has diffed, across its slices."""

    def __init__(self, entries: int, up_to: str | None) -> None:
        self.entries, self.up_to = entries, up_to

    def wrap(self, histories: Iterator[KeyHistory]) -> Iterator[KeyHistory]:
        for history in histories:
            if self.up_to is None or history.key <= self.up_to:
                self.entries += len(history.entries)
            yield history

    def reached(self, limit: int | None) -> Callable[[], bool] | None:
        return None if limit is None else lambda: self.entries >= limit


def hand_back(
    stores: Stores, run: RunContext, item: WorkItem, cursor: DiffCursor, listed: int
) -> bool:
    """The item listed far more than planned: cut the rest of its range, (cursor's key,
    upTo], into pieces for the next wave (`workflow.recut`). False when the rest is
    estimated at one piece: then the item goes on with it."""
    after_key = cursor.after_key
    max_items = MAX_ITEMS_PER_SLOT * run.config.diff_max_concurrency
    scope = run.scope_model
    cuts, per_piece, settled = cut_remainder(
        stores.target,
        run.config.target_bucket,
        within=scope.target_key(item.prefix),
        root=scope.target_root,
        after=after_key,
        up_to=item.up_to,
        planned=item.planned,
        wave=item.wave,
        max_pieces=max_items,
        key_limit=relative_key_limit(scope),
    )
    if not cuts:
        return False
    remainder = Remainder(
        item=item.to_state(),
        index=item.index,
        wave=item.wave,
        after=after_key,
        up_to=item.up_to,
        cuts=cuts,
        per_piece=per_piece,
        item_planned=item.planned,
        settled=settled,
        listed=listed,
    )
    write_remainder(stores, run, remainder)
    return True


class PlanChunks:
    """A Diff slice's plan chunks in the workspace, and its diff-stats file.

    It keeps the [first key, last key] of each chunk: Guard chains the chunks a long key
    spans into one purge item, so its current entry is purged after, and with, the others.
    """

    def __init__(self, stores: Stores, run: RunContext, stem: str) -> None:
        self.stores, self.run, self.stem = stores, run, stem
        self.chunks = chunk_writer(stores, run.workspace, "plan", stem)
        self.counts = PlanCounts()
        self.spans: list[list[str]] = []

    def write(self, planned: PlannedEntry) -> None:
        self.counts.count(planned)
        key, spans = planned.entry.key, self.spans
        shipped = len(self.chunks.names)
        for line in encode_lines((planned,)):
            self.chunks.write_raw(line, boundary=not spans or spans[-1][1] != key)
        if not spans or len(self.chunks.names) != shipped:
            spans.append([key, key])
        else:
            spans[-1][1] = key

    def close(self, **figures: int) -> None:
        """Ship the last chunk; write the slice's figures (`figures` override the counts)."""
        self.chunks.close()
        doc: dict[str, Any] = {
            "sourceEntries": 0,
            "targetEntries": 0,
            "keysInBoth": 0,
            "planned": self.counts.planned,
            "skipped": self.counts.skipped,
        }
        doc.update(figures)
        doc["planKeys"] = [self.run.workspace.key(name) for name in self.chunks.names]
        doc["chunkSpans"] = self.spans
        doc["chunkLines"] = self.chunks.line_counts
        doc["requests"] = self.stores.requests().model_dump()
        put_json(self.stores, self.run.workspace, f"diff-stats/{self.stem}.json", doc)


def item_lineage(run: RunContext, item: WorkItem, stores: Stores) -> Callable[[str], Any] | None:
    """The lineage records Plan filed for this item, if the task writes reports."""
    if run.lineage is None:
        return None
    filed = item.index if item.lineage_of is None else item.lineage_of
    body = stores.files.get_bytes_or_none(
        run.workspace.bucket, run.workspace.key(lineage_name(filed))
    )
    if body is None:
        return None
    return LineageIndex.from_lines(body.splitlines()).lookup
