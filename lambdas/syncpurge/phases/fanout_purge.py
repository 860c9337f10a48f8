"""Purge a plan in parts on a pool of threads: how the CLI fans its purge out (the state
machine's Purge Map runs the same `purge_plan` on each chunk of the plan).

A part is a run of whole keys of the plan, so each key's entries, its current entry last,
stay with one `purge_plan` (invariant 6); each part journals its batches under a name of its
own before it sends them (invariant 8), and verifies its vanished keys itself. Verify's
LISTs are what a purge waits on: parts run them side by side.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from itertools import groupby

from syncpurge.core.plan import PlanSpool
from syncpurge.data.s3store import MAX_KEYS_PER_DELETE
from syncpurge.models import PlannedEntry
from syncpurge.phases.purge import OutcomeRecord, PurgeStopped
from syncpurge.phases.side_by_side import run_side_by_side

# Entries to purge per part, at least: a DeleteObjects batch. Each part ends on a partly
# filled batch (two, where its keys' current entries wait for the rest), so smaller parts
# would cost DeleteObjects beyond the plan's ceil(entries / 1,000).
MIN_PART_ENTRIES = MAX_KEYS_PER_DELETE

OutcomeSink = Callable[[OutcomeRecord], None]
# Purges one part: its entries, its number (None: the only part), where each outcome goes,
# and when to stop (purge_plan's should_stop).
PurgePart = Callable[[Iterator[PlannedEntry], int | None, OutcomeSink, Callable[[], bool]], None]


def plan_parts(plan: PlanSpool, workers: int) -> list[PlanSpool]:
    """The plan, cut between keys into parts of about an equal share of its entries to
    purge for each worker (at least MIN_PART_ENTRIES each)."""
    size = max(MIN_PART_ENTRIES, math.ceil(plan.counts.planned / max(1, workers)))
    parts = [PlanSpool()]
    for _, group in groupby(plan.read(), key=lambda item: item.entry.key):
        if parts[-1].counts.planned >= size:
            parts.append(PlanSpool())
        for item in group:
            parts[-1].write(item)
    return parts


def purge_in_parts(
    plan: PlanSpool, *, workers: int, purge_part: PurgePart, on_outcome: OutcomeSink
) -> None:
    """Purge `plan` in parts on up to `workers` threads, each outcome to `on_outcome` (one
    at a time). A plan of one part is purged on this thread, as ever. The first error (or
    Ctrl-C) stops every part before its next key; each accounts for what it sent, and the
    error is raised once they all have."""
    parts = plan_parts(plan, workers) if workers > 1 else []
    try:
        if len(parts) <= 1:
            purge_part(plan.read(), None, on_outcome, lambda: False)
            return
        _purge_side_by_side(parts, workers, purge_part, on_outcome)
    finally:
        for part in parts:
            part.close()


def _purge_side_by_side(
    parts: list[PlanSpool], workers: int, purge_part: PurgePart, on_outcome: OutcomeSink
) -> None:
    lock, stop = threading.Lock(), threading.Event()

    def one_at_a_time(record: OutcomeRecord) -> None:
        with lock:
            on_outcome(record)

    def piece(part: PlanSpool, number: int) -> Callable[[], None]:
        return lambda: purge_part(part.read(), number, one_at_a_time, stop.is_set)

    run_side_by_side(
        [piece(part, number) for number, part in enumerate(parts, start=1)],
        workers=workers,
        stop=stop,
        stopped=(PurgeStopped,),
        name="syncpurge-purge",
    )
