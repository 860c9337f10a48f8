"""Re-check a stored plan in parts on a pool of threads: how the CLI applies a reviewed plan
(`--apply-plan`) at its workers' pace (the state machine re-checks one work item per stored
purge item, side by side on its Distributed Map).

A part is a run of whole keys of the stored plan, re-checked by range as a fresh run lists
(`apply_ranges.RangeFresh`, one per part); the parts' re-checked plans are joined in the
stored plan's order. A re-check only lists: a stop ends a part before its next entry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from syncpurge.core.plan import PlanSpool
from syncpurge.models import PlannedEntry
from syncpurge.phases.apply import in_key_order, recheck
from syncpurge.phases.apply_ranges import RangeFresh
from syncpurge.phases.diffing import ProgressListener
from syncpurge.phases.fanout import planner
from syncpurge.phases.fanout_purge import plan_parts
from syncpurge.phases.side_by_side import run_side_by_side


class RecheckStopped(Exception):
    """The run stopped (an error in another part, or Ctrl-C) while this part re-checked."""


class RecheckCount:
    """Counts the stored plan's entries to purge as the parts read them: `re-checked X of N`."""

    def __init__(self, total: int, progress: ProgressListener) -> None:
        self.total, self.progress = total, progress
        progress.to_recheck(total)

    def __call__(self, entry: PlannedEntry) -> None:
        if entry.to_purge:
            self.progress.rechecked(1)


@dataclass(frozen=True, slots=True)
class Recheck:
    """How a part is re-checked: a RangeFresh of its own, the run's scope, the counts."""

    new_fresh: Callable[[], RangeFresh]
    in_scope: Callable[[str], bool]
    progress: ProgressListener
    count: RecheckCount

    def part(self, stored: Iterable[PlannedEntry], plan: PlanSpool) -> None:
        fresh = self.new_fresh()
        try:
            on_plan = planner(plan, self.progress)
            for item in recheck(_counted(stored, self.count), fresh, self.in_scope):
                on_plan(item)
        finally:
            fresh.close()


def recheck_in_parts(
    stored: Iterable[PlannedEntry], *, workers: int, how: Recheck, plan: PlanSpool
) -> None:
    """The stored plan re-checked (what no longer qualifies skipped `stale`) into `plan`, in
    its order: on this thread for one worker, else in parts on `workers` threads."""
    if workers <= 1:
        how.part(stored, plan)
        return
    with PlanSpool() as whole:
        # Each part checks the order of its own keys: the whole plan's is checked here,
        # before any part starts (a key repeated out of order would land in two parts).
        for item in in_key_order(stored):
            whole.write(item)
        parts = plan_parts(whole, workers)
    outputs = [PlanSpool() for _ in parts]
    stop = threading.Event()

    def piece(part: PlanSpool, output: PlanSpool) -> Callable[[], None]:
        return lambda: how.part(_until(stop, part.read()), output)

    try:
        run_side_by_side(
            [piece(part, output) for part, output in zip(parts, outputs, strict=True)],
            workers=workers,
            stop=stop,
            stopped=(RecheckStopped,),
            name="syncpurge-recheck",
        )
        for output in outputs:
            plan.extend(output)
    finally:
        for spool in (*parts, *outputs):
            spool.close()


def _counted(stored: Iterable[PlannedEntry], count: RecheckCount) -> Iterator[PlannedEntry]:
    for entry in stored:
        count(entry)
        yield entry


def _until(stop: threading.Event, entries: Iterable[PlannedEntry]) -> Iterator[PlannedEntry]:
    for entry in entries:
        if stop.is_set():
            raise RecheckStopped
        yield entry
