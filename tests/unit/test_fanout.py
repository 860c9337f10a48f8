"""The CLI's fan-out of a diff over key ranges (syncpurge.phases.fanout): plans joined in key
order whatever order the ranges end in, figures summed, and a failing range stops the rest;
and of a purge over parts of the plan (syncpurge.phases.fanout_purge)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from syncpurge.core.diff import DiffStats
from syncpurge.core.keyspace import KeyRange
from syncpurge.core.plan import PlanSpool
from syncpurge.core.scope import Scope
from syncpurge.models import Entry, Outcome, PlannedEntry, Rule
from syncpurge.phases import fanout_purge
from syncpurge.phases.diffing import NullProgress
from syncpurge.phases.fanout import RangeWork, cut_scope, diff_in_ranges
from syncpurge.phases.purge import OutcomeRecord, PurgeStopped

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def planned(key: str) -> PlannedEntry:
    return PlannedEntry(Entry(key, "v1", False, T0, False, 1, '"e"'), Rule.VANISHED_KEY, "gone")


class Ranges(NullProgress):
    """A progress listener that keeps what `ranges` was told."""

    def __init__(self) -> None:
        self.told: list[tuple[int, int]] = []

    def ranges(self, done: int, total: int) -> None:
        self.told.append((done, total))


def keyed_range(
    work: RangeWork, on_plan: Callable[[PlannedEntry], None], stop: Callable[[], bool]
) -> DiffStats:
    """Plans three keys of its range, the first range slowest: ranges end in reverse."""
    index = int(work.prefix)
    time.sleep(0.05 * (4 - index))
    for n in range(3):
        on_plan(planned(f"{index}/{n}"))
    return DiffStats(source_entries=index, target_entries=10 * index, keys_in_both=1)


def test_the_plan_is_joined_in_key_order_whatever_order_the_ranges_end_in() -> None:
    work = [RangeWork(str(i), KeyRange()) for i in range(4)]
    progress = Ranges()

    with PlanSpool() as plan:
        stats = diff_in_ranges(
            work, workers=4, diff_range=keyed_range, plan=plan, progress=progress
        )
        keys = [item.entry.key for item in plan.read()]

        assert keys == [f"{i}/{n}" for i in range(4) for n in range(3)]
        assert plan.counts.planned == 12
    assert (stats.source_entries, stats.target_entries, stats.keys_in_both) == (6, 60, 4)
    assert progress.told[0] == (0, 4)
    assert progress.told[-1] == (4, 4)


def test_a_failing_range_stops_the_others_and_its_error_is_raised() -> None:
    started, stopped = threading.Event(), []

    def diff_range(
        work: RangeWork, on_plan: Callable[[PlannedEntry], None], stop: Callable[[], bool]
    ) -> DiffStats:
        if work.prefix == "bad":
            started.wait(5)
            raise RuntimeError("AccessDenied on the target")
        started.set()
        deadline = time.monotonic() + 5
        while not stop() and time.monotonic() < deadline:  # a long range, key after key
            on_plan(planned(f"{work.prefix}/k"))
            time.sleep(0.01)
        stopped.append(stop())
        return DiffStats()

    work = [RangeWork("bad", KeyRange()), RangeWork("long", KeyRange())]
    with PlanSpool() as plan:
        with pytest.raises(RuntimeError, match="AccessDenied"):
            diff_in_ranges(
                work, workers=2, diff_range=diff_range, plan=plan, progress=NullProgress()
            )
        assert plan.counts.planned == 0  # nothing of a failed diff reaches the plan
    assert stopped == [True]  # the long range was told to stop, and did


class Untouchable:
    """A store no call may reach."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"one worker cut with a request: {name}")


def test_one_worker_lists_each_prefix_whole_and_spends_no_probe() -> None:
    work = cut_scope(Untouchable(), "target", Scope(), ["a/", "b/"], 1)  # type: ignore[arg-type]

    assert work == [RangeWork("a/", KeyRange()), RangeWork("b/", KeyRange())]


# ------------------------------------------------------------------ the purge's parts


def spool_of(keys: list[str]) -> PlanSpool:
    spool = PlanSpool()
    for key in keys:
        spool.write(planned(key))
    return spool


def test_parts_are_cut_between_keys_with_a_share_of_the_plan_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout_purge, "MIN_PART_ENTRIES", 1)
    keys = ["a", "a", "a", "b", "c", "c", "d", "e", "e", "e"]  # a key's entries, in a row
    with spool_of(keys) as plan:
        parts = fanout_purge.plan_parts(plan, workers=4)
        cut = [[item.entry.key for item in part.read()] for part in parts]
        for part in parts:
            part.close()

    assert [key for part in cut for key in part] == keys  # every entry once, in plan order
    assert [sorted(set(part)) for part in cut] == [["a"], ["b", "c"], ["d", "e"]]


def test_a_plan_in_parts_reports_every_entry_once_and_journals_each_part_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout_purge, "MIN_PART_ENTRIES", 1)
    keys = [f"k{n:02d}" for n in range(12)]
    seen: list[str] = []
    numbers: set[int | None] = set()

    def purge_part(
        part: Iterator[PlannedEntry],
        number: int | None,
        on_outcome: Callable[[OutcomeRecord], None],
        stop: Callable[[], bool],
    ) -> None:
        numbers.add(number)
        for item in part:
            time.sleep(0.001)
            on_outcome(OutcomeRecord(item, Outcome.PURGED, "deleted"))

    with spool_of(keys) as plan:
        fanout_purge.purge_in_parts(
            plan,
            workers=4,
            purge_part=purge_part,
            on_outcome=lambda r: seen.append(r.planned.entry.key),
        )

    assert sorted(seen) == keys
    assert numbers == {1, 2, 3, 4}  # four parts, each journaling under its own number


def test_one_worker_purges_the_plan_whole_on_this_thread() -> None:
    threads: set[str] = set()

    def purge_part(
        part: Iterator[PlannedEntry],
        number: int | None,
        on_outcome: Callable[[OutcomeRecord], None],
        stop: Callable[[], bool],
    ) -> None:
        threads.add(threading.current_thread().name)
        assert number is None  # the only part keeps the journal's plain names
        for item in part:
            on_outcome(OutcomeRecord(item, Outcome.PURGED, "deleted"))

    seen: list[OutcomeRecord] = []
    with spool_of([f"k{n}" for n in range(2_000)]) as plan:
        fanout_purge.purge_in_parts(plan, workers=1, purge_part=purge_part, on_outcome=seen.append)

    assert threads == {threading.current_thread().name}
    assert len(seen) == 2_000


def test_a_failing_part_stops_the_others_before_their_next_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fanout_purge, "MIN_PART_ENTRIES", 100)
    stopped: list[bool] = []
    started = threading.Event()

    def purge_part(
        part: Iterator[PlannedEntry],
        number: int | None,
        on_outcome: Callable[[OutcomeRecord], None],
        stop: Callable[[], bool],
    ) -> None:
        if number == 1:
            started.wait(5)
            raise RuntimeError("the report can't be written")
        started.set()
        for item in part:
            if stop():
                stopped.append(True)
                raise PurgeStopped
            on_outcome(OutcomeRecord(item, Outcome.PURGED, "deleted"))
            time.sleep(0.01)

    with (
        spool_of([f"k{n:04d}" for n in range(600)]) as plan,
        pytest.raises(RuntimeError, match="can't be written"),
    ):
        fanout_purge.purge_in_parts(
            plan, workers=2, purge_part=purge_part, on_outcome=lambda record: None
        )
    assert stopped == [True]
