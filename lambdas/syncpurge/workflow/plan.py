"""Plan: cut the scope into key-range Diff work items, and file the task's lineage per item."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from syncpurge.core.keyspace import KeyRange
from syncpurge.core.lineage import origin_to_json, read_task_reports
from syncpurge.errors import InvalidInput
from syncpurge.phases.cutting import KEY_SPACE_END, key_ranges, probe_boundaries
from syncpurge.phases.diffing import policy_for
from syncpurge.phases.report import EntriesWriter
from syncpurge.workflow.context import (
    RunContext,
    RunEvent,
    Stores,
    Wire,
    place_buckets,
    put_json,
    stored_workspace,
    sum_json,
    workspace_destination,
)
from syncpurge.workflow.guard import item_share, purge_items
from syncpurge.workflow.ranges import (
    MIN_SAMPLE_EVERY,
    recorded_boundaries,
    recorded_samples,
    sample_every,
)
from syncpurge.workflow.recut import (
    Piece,
    allot,
    hand_back_after,
    pieces_of,
    record_wave,
    wave_remainders,
)

# Items per concurrent Diff: a few waves, so that uneven items even out at the tail.
MAX_ITEMS_PER_SLOT = 4


class WaveState(Wire):
    """Which Diff wave just ran, and the first index free for the next one's items."""

    wave: int
    next_index: int


class PlanEvent(RunEvent):
    """Plan's event: the run (cut the scope), or also the wave that just ran (Recut)."""

    after_wave: WaveState | None = None


class WorkItem(Wire):
    """Diff work: the relative keys k under `prefix` with after < k <= up_to."""

    index: int
    prefix: str
    after: str | None = None
    up_to: str | None = None
    # Entries newer than this are skipped (grace). Set when the Diff begins, after the
    # sync: in datasync mode the run owns the sync, so the markers it just wrote count.
    grace_cutoff: datetime
    # Diff notes a boundary key every this many entries per side, for the next run.
    sample_every: int = MIN_SAMPLE_EVERY
    # applyPlan: the stored plan chunks this item re-checks, instead of a listing to diff,
    # and the [first key, last key] its run recorded for each (a line outside is refused).
    apply_chunks: list[str] = Field(default_factory=list)
    apply_spans: list[list[str]] = Field(default_factory=list)
    # Re-cutting (`workflow.recut`): the Diff Map's wave this item runs in, the entries
    # (both sides) it was planned at, how many it lists before handing the rest of its
    # range back (None: never), and the item whose lineage file it reads.
    wave: int = 0
    planned: int = 0
    hand_back_after: int | None = None
    lineage_of: int | None = None

    @property
    def key_range(self) -> KeyRange:
        return KeyRange(self.after, self.up_to)


def plan_step(event: PlanEvent, stores: Stores) -> dict[str, Any]:
    """The Plan step: cut the scope into the first wave's items, or (after a wave) the
    remainders its items handed back into the next wave's."""
    if event.after_wave is not None:
        place_buckets(stores, event.run)
        return next_wave(event, stores)
    return plan_items(event, stores)


def plan_items(event: RunEvent, stores: Stores) -> dict[str, Any]:
    """Cut the scope into key-range Diff work items and write them for the ItemReader."""
    run = event.run
    place_buckets(stores, run)
    cutoff = policy_for(run.request, datetime.now(UTC)).grace_cutoff
    assert cutoff is not None
    if run.request.apply_plan:
        return apply_items(event, stores, cutoff)
    scope = run.scope_model
    recorded = recorded_samples(stores, run)
    max_items = max_diff_items(run)
    items: list[WorkItem] = []
    cuts_from = "whole" if max_items == 1 else "samples"
    cuts: list[str]
    budget: int | None
    for prefix in run.request.scope_prefixes():
        if max_items == 1:
            # one item at a time (the CLI's --workers 1): each prefix whole, no probe spent
            cuts, per_item, budget = [], 0.0, None
        elif prefix in recorded:
            cuts, per_item = recorded_boundaries(recorded[prefix], max_items)
            budget = hand_back_after(per_item, 0, trusted=True)
        else:
            cuts_from = "probes"
            cuts, per_item, settled = probe_boundaries(
                stores.target,
                run.config.target_bucket,
                scope.target_key(prefix),
                scope.target_root,
                max_items,
                # what no run lists (a CLI run's lock, report folders in the target) is
                # no folder to cut by
                ignore=scope.excluded_target_prefixes,
            )
            budget = hand_back_after(per_item, 0, trusted=settled)
        first = len(items)  # (extend grows the list as the generator runs)
        items.extend(
            WorkItem(
                index=first + i,
                prefix=prefix,
                after=part.after,
                up_to=part.up_to,
                grace_cutoff=cutoff,
                sample_every=sample_every(per_item),
                planned=int(per_item),
                hand_back_after=budget,
            )
            for i, part in enumerate(key_ranges(cuts, scope))
        )
    strays = file_lineage(event, stores, items) if run.lineage is not None else 0
    stats = {
        **stores.requests().model_dump(),
        "items": len(items),
        "cutFrom": cuts_from,
        "lineageStrayFiles": strays,
    }
    put_json(stores, run.workspace, "plan-stats.json", stats)
    return write_items(stores, run, items)


def max_diff_items(run: RunContext) -> int:
    """Diff items a wave is cut into at most: a few per item the Map runs at once, so
    that uneven items even out at the tail; one when it runs one at a time."""
    concurrency = run.config.diff_max_concurrency
    return 1 if concurrency == 1 else MAX_ITEMS_PER_SLOT * concurrency


def next_wave(event: PlanEvent, stores: Stores) -> dict[str, Any]:
    """Recut: the pieces of the ranges the last wave's items handed back, as the next
    wave's work items (none: the Diff is done)."""
    run, after = event.run, event.after_wave
    assert after is not None
    remainders = wave_remainders(stores, run, after.wave)
    max_items = MAX_ITEMS_PER_SLOT * run.config.diff_max_concurrency
    wave = after.wave + 1
    placed: list[tuple[Piece, WorkItem]] = []
    for remainder, cuts in zip(remainders, allot(remainders, max_items), strict=True):
        parent = WorkItem.model_validate(remainder.item)
        placed += [(piece, parent) for piece in pieces_of(remainder, cuts)]
    # Largest first, so that the wave's tail is its small pieces; then numbered.
    placed.sort(key=lambda pair: -int(pair[0].planned))
    items = [
        parent.model_copy(
            update={
                "index": after.next_index + i,
                "after": piece.key_range.after,
                "up_to": piece.key_range.up_to,
                "wave": wave,
                "planned": int(piece.planned),
                "sample_every": sample_every(piece.planned),
                "hand_back_after": piece.hand_back_after,
                "lineage_of": parent.index if parent.lineage_of is None else parent.lineage_of,
            }
        )
        for i, (piece, parent) in enumerate(placed)
    ]
    record_wave(stores, run, after.wave, len(remainders), len(items))
    return write_items(stores, run, items, wave=wave, next_index=after.next_index + len(items))


def apply_items(event: RunEvent, stores: Stores, cutoff: datetime) -> dict[str, Any]:
    """applyPlan: one work item per purge item of the stored plan (a key's chunks together),
    and the stored run's listing figures, which the guard and the report count from."""
    run = event.run
    stored = stored_workspace(run.workspace, run.request.apply_plan or "")
    where = stores.files.shown(stored.bucket, stored.prefix)
    try:
        figures = sum_json(stores, stored, "diff-stats/")
    except (OSError, ValueError) as err:  # a file of it edited, or unreadable
        raise InvalidInput(f"applyPlan: {where}diff-stats/ can't be read ({err})") from None
    spans = stored_spans(figures, where)
    planned = int(figures.get("planned", 0)) + int(figures.get("skipped", 0))
    concurrency = run.config.diff_max_concurrency
    items = [
        WorkItem(
            index=i,
            prefix="",
            grace_cutoff=cutoff,
            apply_chunks=chain["planKeys"],
            apply_spans=[spans[key] for key in chain["planKeys"]],
        )
        # the stored plan's purge items, as many as the Diff Map runs at once: a share each
        for i, chain in enumerate(purge_items(figures, item_share(planned, concurrency)))
    ]
    listing = {
        name: figures.get(name, 0) for name in ("sourceEntries", "targetEntries", "keysInBoth")
    }
    put_json(stores, run.workspace, "diff-stats/stored-plan.json", listing)
    # the stored plan's entries to purge, which a driver tells as "re-checked X of N"
    return {**write_items(stores, run, items), "toRecheck": int(figures.get("planned", 0))}


def stored_spans(figures: dict[str, Any], where: str) -> dict[str, list[str]]:
    """Each stored plan chunk's [first key, last key], checked to follow each other in key
    order, as a run writes them: a plan edited so that a key lies in two chunks would be
    re-checked by two items at once, and reported twice."""
    spans: dict[str, list[str]] = {}
    for keys, chunk_spans in zip(
        figures.get("planKeys", []), figures.get("chunkSpans", []), strict=True
    ):
        spans.update(zip(keys, chunk_spans, strict=True))
    last: str | None = None
    for plan_key in sorted(spans):
        first, end = spans[plan_key]
        if first > end or (last is not None and first < last):
            raise InvalidInput(
                f"applyPlan: {where}: the stored plan's chunks are not in key order "
                f"({plan_key} starts at {first!r}, before {last!r}): not as a run writes them"
            )
        last = end
    return spans


def items_name(wave: int) -> str:
    return "items.json" if wave == 0 else f"items-{wave:02d}.json"


def write_items(
    stores: Stores,
    run: RunContext,
    items: list[WorkItem],
    *,
    wave: int = 0,
    next_index: int | None = None,
) -> dict[str, Any]:
    """A wave's Diff work items, where the Distributed Map's ItemReader reads them."""
    name = items_name(wave)
    put_json(stores, run.workspace, name, [item.to_state() for item in items])
    return {
        "bucket": run.workspace.bucket,
        "key": run.workspace.key(name),
        "count": len(items),
        "wave": wave,
        "nextIndex": len(items) if next_index is None else next_index,
    }


class ItemFinder:
    """Which work item lists a relative key: a prefix's items are consecutive ranges."""

    def __init__(self, items: list[WorkItem]) -> None:
        self.by_prefix: dict[str, tuple[list[str], list[int]]] = {}
        for item in items:
            ends, indexes = self.by_prefix.setdefault(item.prefix, ([], []))
            ends.append(item.up_to if item.up_to is not None else KEY_SPACE_END)
            indexes.append(item.index)

    def item_of(self, relative_key: str) -> int | None:
        for prefix, (ends, indexes) in self.by_prefix.items():
            if relative_key.startswith(prefix):
                at = bisect.bisect_left(ends, relative_key)
                return indexes[at] if at < len(ends) else None
        return None


def file_lineage(event: RunEvent, stores: Stores, items: list[WorkItem]) -> int:
    """Read the task's transferred reports once; write each item's records beside it.
    Returns how many files in the task's report folder DataSync did not write (unread)."""
    run = event.run
    assert run.lineage is not None
    finder = ItemFinder(items)
    writers: dict[int, EntriesWriter] = {}
    strays: list[str] = []
    reports = read_task_reports(stores.s3, run.lineage.bucket, run.lineage.prefix, strays=strays)
    for version_id, origin in reports:
        index = finder.item_of(origin.relative_key)
        if index is None:
            continue
        if index not in writers:
            writers[index] = EntriesWriter(
                workspace_destination(stores, run.workspace),
                per_file=10**12,
                name=lambda _n, i=index: lineage_name(i),  # type: ignore[misc]
            )
        writers[index].write(origin_to_json(version_id, origin))
    for writer in writers.values():
        writer.close()
    return len(strays)


def lineage_name(index: int) -> str:
    return f"lineage/{index:05d}.jsonl"
