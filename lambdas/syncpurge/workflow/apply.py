"""Diff, for a run that applies an earlier run's plan: re-check the stored plan chunks,
key by key, into this run's plan (`syncpurge.phases.apply`), reading each key's fresh plan off
range listings (`syncpurge.phases.apply_ranges`); near the time limit it returns the
chunk and line to go on from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncpurge.core.rules import DiffPolicy
from syncpurge.phases.apply import PairAccess, Recheck, each_entry_once, in_run_scope
from syncpurge.phases.apply_ranges import RangeFresh
from syncpurge.phases.diffing import NullProgress, ProgressListener
from syncpurge.workflow.context import Stores, place_buckets
from syncpurge.workflow.diff import DiffItemEvent, PlanChunks, PlanReader, diff_item


def diff_step(
    event: DiffItemEvent,
    stores: Stores,
    should_stop: Callable[[], bool] | None = None,
    progress_listener: ProgressListener | None = None,
) -> dict[str, Any]:
    """The Diff step: diff the item's listings, or re-check the stored plan it carries."""
    place_buckets(stores, event.run)
    if event.item.apply_chunks:
        return apply_item(event, stores, should_stop, progress_listener)
    return diff_item(event, stores, should_stop, progress_listener)


def apply_item(
    event: DiffItemEvent,
    stores: Stores,
    should_stop: Callable[[], bool] | None = None,
    progress_listener: ProgressListener | None = None,
) -> dict[str, Any]:
    """Re-check the item's stored plan chunks from its progress, a key at a time."""
    run, item, progress = event.run, event.item, event.progress
    stored = PlanReader(stores, run, item.apply_chunks, progress, item.apply_spans)
    plan = PlanChunks(stores, run, f"{item.index:05d}-{progress.slice:05d}")
    stored_counts = {"planned": 0, "skipped": 0}
    policy = DiffPolicy(
        mode=run.request.mode, rules=frozenset(run.request.rules), grace_cutoff=item.grace_cutoff
    )
    access = PairAccess(
        stores.source,
        stores.target,
        run.config.source_bucket,
        run.config.target_bucket,
        policy,
        run.scope_model,
    )
    listener = progress_listener or NullProgress()
    fresh = RangeFresh(access, run.request.scope_prefixes(), progress=listener)
    checker = Recheck(fresh, in_run_scope(run.scope_model, run.request.scope_prefixes()))
    try:
        for key in stored.keys(should_stop):
            for planned in each_entry_once(key):
                stored_counts["planned" if planned.to_purge else "skipped"] += 1
                if planned.to_purge:
                    listener.rechecked(1)
            for planned in checker.key(key):
                plan.write(planned)
                listener.planned(planned)
    finally:
        fresh.close()
    # The report counts the plan as stored; the guard checks that the re-check (which can
    # only shrink it) purges no more than the plan its run guarded and a person reviewed.
    plan.close(**stored_counts, recheckedPlanned=plan.counts.planned)
    return stored.next_progress().to_state()
