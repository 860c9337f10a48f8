"""Diff a run's scope as key ranges on a pool of threads: how the CLI fans its diff out (the
state machine fans the same ranges out on its Distributed Map).

The ranges are cut by `phases.cutting` on the target, as the state machine's Plan cuts them,
and each is diffed by `phases.diffing`. Each range's plan goes to a spool of its own; the
spools are joined in key order, so the plan reads as one listing's would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from syncpurge.core.diff import DiffStats
from syncpurge.core.keyspace import KeyRange
from syncpurge.core.plan import PlanSpool
from syncpurge.core.scope import Scope
from syncpurge.data.s3store import S3Store
from syncpurge.models import PlannedEntry
from syncpurge.phases.apply import PairAccess
from syncpurge.phases.cutting import key_ranges, probe_boundaries
from syncpurge.phases.diffing import ProgressListener, diff_scope
from syncpurge.phases.side_by_side import run_side_by_side

# Target entries a range is cut at: 25 pages a side. Each range ends on a partly read page
# per side (half a LIST each, on average), so a run cut this fine pays about 2 % more LISTs
# than one listing; ranges of a bucket that large keep every worker busy.
RANGE_TARGET_ENTRIES = 25_000
# Folders whose first page sizes a layout of many folders: two LISTs, not the state
# machine's eight (its items are 64,000 entries; a CLI run's probes are a larger share).
FOLDER_SAMPLES = 2
# The CLI's threads: eight keep one core busy parsing pages against S3's 0.1 to 0.3 s a
# LIST page (two listings each, ~20 ms of CPU a page); at most as many as the S3 clients'
# connection pools hold (data.clients.RETRY_CONFIG).
DEFAULT_WORKERS = 8
MAX_WORKERS = 32
# Ranges per worker, at most: one. Each range costs about a LIST more than one listing;
# at 200,000 entries a side, sixteen ranges made the run's LISTs 6 % more than one pass.
RANGES_PER_WORKER = 1


@dataclass(frozen=True, slots=True)
class RangeWork:
    """One range of a run's diff: the relative keys k under `prefix` within `key_range`."""

    prefix: str
    key_range: KeyRange


# Diffs one range, handing each planned entry to the callback, until done or the stop
# callable says yes (between keys); returns the range's listing figures.
DiffRange = Callable[[RangeWork, Callable[[PlannedEntry], None], Callable[[], bool]], DiffStats]


def diff_prefixes(
    prefixes: list[str],
    pair: PairAccess,
    *,
    workers: int,
    plan: PlanSpool,
    progress: ProgressListener,
) -> DiffStats:
    """Diff the scope's `prefixes` anew on `workers` threads, over key ranges cut for them;
    the plan goes to `plan`, in key order."""

    def diff_range(
        work: RangeWork, on_plan: Callable[[PlannedEntry], None], stop: Callable[[], bool]
    ) -> DiffStats:
        return diff_scope(
            **pair.listing(),
            prefix=work.prefix,
            key_range=work.key_range,
            on_plan=on_plan,
            progress=progress,
            should_stop=stop,
        )

    work = cut_scope(pair.target, pair.target_bucket, pair.scope, prefixes, workers)
    return diff_in_ranges(
        work, workers=workers, diff_range=diff_range, plan=plan, progress=progress
    )


def cut_scope(
    target: S3Store, target_bucket: str, scope: Scope, prefixes: list[str], workers: int
) -> list[RangeWork]:
    """The ranges `workers` diff: each prefix whole for one worker (no probe spent), else
    cut by probing the target into ranges of about RANGE_TARGET_ENTRIES."""
    if workers <= 1:
        return [RangeWork(prefix, KeyRange()) for prefix in prefixes]
    work: list[RangeWork] = []
    for prefix in prefixes:
        cuts, _, _ = probe_boundaries(
            target,
            target_bucket,
            scope.target_key(prefix),
            scope.target_root,
            RANGES_PER_WORKER * workers,
            per_item=RANGE_TARGET_ENTRIES,
            ignore=scope.excluded_target_prefixes,  # the run's lock
            folder_samples=FOLDER_SAMPLES,
        )
        work += [RangeWork(prefix, part) for part in key_ranges(cuts, scope)]
    return work


def diff_in_ranges(
    work: list[RangeWork],
    *,
    workers: int,
    diff_range: DiffRange,
    plan: PlanSpool,
    progress: ProgressListener,
) -> DiffStats:
    """Diff every range on `workers` threads and append their plans to `plan` in key order;
    returns the figures of all. The first error (or Ctrl-C) stops every range at its next
    key, and is raised once they have (`side_by_side`): nothing of it reaches `plan`."""
    stats, stop, done = DiffStats(), threading.Event(), 0
    spools = [PlanSpool() for _ in work]

    def piece(part: RangeWork, spool: PlanSpool) -> Callable[[], DiffStats]:
        return lambda: diff_range(part, planner(spool, progress), stop.is_set)

    def ended(range_stats: DiffStats) -> None:
        nonlocal done
        stats.add(range_stats)
        done += 1
        progress.ranges(done, len(work))

    progress.ranges(0, len(work))
    try:
        run_side_by_side(
            [piece(part, spool) for part, spool in zip(work, spools, strict=True)],
            workers=workers,
            stop=stop,
            on_result=ended,
            name="syncpurge-diff",
        )
        for spool in spools:
            plan.extend(spool)
    finally:
        for spool in spools:
            spool.close()
    return stats


def planner(spool: PlanSpool, progress: ProgressListener) -> Callable[[PlannedEntry], None]:
    """Each planned entry into `spool`, and told to `progress`."""

    def on_plan(item: PlannedEntry) -> None:
        spool.write(item)
        progress.planned(item)

    return on_plan
