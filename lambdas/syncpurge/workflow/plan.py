"""Plan: cut the scope into key-range Diff work items, and file the task's lineage per item."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from syncpurge.diffing import policy_for
from syncpurge.keyspace import MAX_KEY_BYTES, KeyRange, cuts_within, ranges_between
from syncpurge.lineage import origin_to_json, read_task_reports
from syncpurge.report import EntriesWriter
from syncpurge.scope import Scope
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
from syncpurge.workflow.guard import purge_items
from syncpurge.workflow.ranges import (
    KEY_SPACE_END,
    MIN_SAMPLE_EVERY,
    probe_boundaries,
    recorded_boundaries,
    recorded_samples,
    sample_every,
)

# Items per concurrent Diff: a few waves, so that uneven items even out at the tail.
MAX_ITEMS_PER_SLOT = 4


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
    # applyPlan: the stored plan chunks this item re-checks, instead of a listing to diff.
    apply_chunks: list[str] = Field(default_factory=list)

    @property
    def key_range(self) -> KeyRange:
        return KeyRange(self.after, self.up_to)


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
    max_items = MAX_ITEMS_PER_SLOT * run.config.diff_max_concurrency
    items: list[WorkItem] = []
    cuts_from = "samples"
    for prefix in run.request.scope_prefixes():
        if prefix in recorded:
            cuts, per_item = recorded_boundaries(recorded[prefix], max_items)
        else:
            cuts_from = "probes"
            cuts, per_item = probe_boundaries(
                stores.s3,
                run.config.target_bucket,
                scope.target_key(prefix),
                scope.target_root,
                max_items,
            )
        cuts = cuts_within(cuts, relative_key_limit(scope))
        items.extend(
            WorkItem(
                index=len(items) + i,
                prefix=prefix,
                after=part.after,
                up_to=part.up_to,
                grace_cutoff=cutoff,
                sample_every=sample_every(per_item),
            )
            for i, part in enumerate(ranges_between(cuts))
        )
    if run.lineage is not None:
        file_lineage(event, stores, items)
    stats = {**stores.s3.counter.snapshot().model_dump(), "items": len(items), "cutFrom": cuts_from}
    put_json(stores, run.workspace, "plan-stats.json", stats)
    return write_items(stores, run, items)


def apply_items(event: RunEvent, stores: Stores, cutoff: datetime) -> dict[str, Any]:
    """applyPlan: one work item per purge item of the stored plan (a key's chunks together),
    and the stored run's listing figures, which the guard and the report count from."""
    run = event.run
    stored = stored_workspace(run.workspace, run.request.apply_plan or "")
    figures = sum_json(stores, stored, "diff-stats/")
    items = [
        WorkItem(index=i, prefix="", grace_cutoff=cutoff, apply_chunks=chain["planKeys"])
        for i, chain in enumerate(purge_items(figures))
    ]
    listing = {
        name: figures.get(name, 0) for name in ("sourceEntries", "targetEntries", "keysInBoth")
    }
    put_json(stores, run.workspace, "diff-stats/stored-plan.json", listing)
    return write_items(stores, run, items)


def relative_key_limit(scope: Scope) -> int:
    """A relative cut becomes a KeyMarker under either root: the bytes it may take to fit
    S3's key length under both."""
    roots = max(len(scope.source_root.encode()), len(scope.target_root.encode()))
    return MAX_KEY_BYTES - roots


def write_items(stores: Stores, run: RunContext, items: list[WorkItem]) -> dict[str, Any]:
    """The Diff work items, where the Distributed Map's ItemReader reads them."""
    put_json(stores, run.workspace, "items.json", [item.to_state() for item in items])
    return {
        "bucket": run.workspace.bucket,
        "key": run.workspace.key("items.json"),
        "count": len(items),
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


def file_lineage(event: RunEvent, stores: Stores, items: list[WorkItem]) -> None:
    """Read the task's transferred reports once; write each item's records beside it."""
    run = event.run
    assert run.lineage is not None
    finder = ItemFinder(items)
    writers: dict[int, EntriesWriter] = {}
    for version_id, origin in read_task_reports(stores.s3, run.lineage.bucket, run.lineage.prefix):
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


def lineage_name(index: int) -> str:
    return f"lineage/{index:05d}.jsonl"
