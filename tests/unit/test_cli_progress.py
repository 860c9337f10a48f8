"""The CLI's progress (issue 29 "Progress that tells the truth", issue 30 "count the lock
apart, each phase line once"): off a terminal, one line as each phase ends and one every
few seconds while it runs, with entries listed per side, planned, purged and a rate."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from syncpurge.cli.progress import LOG_EVERY_SECONDS, Figures, RunProgress
from syncpurge.models import Entry, Outcome, PlannedEntry, Proof, Rule
from syncpurge.phases.purge import OutcomeRecord

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def off_a_terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=False, width=100), out


def planned(key: str) -> PlannedEntry:
    entry = Entry(key, "v1", True, datetime(2026, 1, 1, tzinfo=UTC), False)
    return PlannedEntry(
        entry, Rule.VANISHED_KEY, "the source has no such key", proof=Proof.VANISHED
    )


def test_each_phase_has_one_line_when_it_ends_with_its_figures_and_rate() -> None:
    console, out = off_a_terminal()
    clock = Clock()
    with RunProgress(console, clock=clock) as progress:
        progress.phase("preflight")
        progress.phase("diff")
        for side, read, in_scope in (("source", 57, 57), ("target", 61, 60)):
            progress.listed(side, read)
            progress.counted(side, in_scope)
        progress.planned(planned("gone"))
        clock.now += 2.0
        progress.phase("report")
    lines = out.getvalue().splitlines()
    assert [line.split("]")[0] for line in lines] == ["[preflight", "[diff", "[report"]
    diff = lines[1]
    # the target's own entries, the lock (outside the scope) apart; 117 listed in 2 s
    assert "listed source 57, target 60 (+1 outside the scope)" in diff
    assert "planned 1" in diff
    assert "58 entries listed/s, done in 2.0 s" in diff


def test_a_long_phase_prints_a_line_every_few_seconds_without_the_unsettled_outside() -> None:
    console, out = off_a_terminal()
    clock = Clock()
    with RunProgress(console, clock=clock) as progress:
        progress.phase("diff")
        progress.listed("target", 1_000)  # read, not diffed yet: not "outside the scope"
        progress.counted("target", 400)
        clock.now += LOG_EVERY_SECONDS
        progress.listed("target", 1_000)
    first, last = out.getvalue().splitlines()
    assert first.startswith("[diff] listed source 0, target 400; planned 0 (80 entries listed/s")
    assert "outside" not in first
    assert "done" not in first
    assert "(+1,600 outside the scope)" in last
    assert "done in" in last


def test_applying_a_plan_says_re_checked_x_of_n_and_purging_rates_outcomes() -> None:
    console, out = off_a_terminal()
    clock = Clock()
    with RunProgress(console, clock=clock) as progress:
        progress.phase("diff")
        progress.to_recheck(850)
        clock.now += 10
        progress.rechecked(850)
        progress.phase("purge")
        for _ in range(4):
            progress.outcome(OutcomeRecord(planned("gone"), Outcome.PURGED, ""))
        clock.now += 2
    *_, diff, purge = out.getvalue().splitlines()
    assert diff.startswith("[diff]")
    assert purge.startswith("[purge]")
    assert "re-checked 850 of 850" in diff
    assert "(85 re-checked/s" in diff
    assert "purged 4, retained 0, skipped 0, failed 0 (2 entries done/s" in purge


def test_a_cut_diff_counts_what_it_read_past_a_range_end_with_what_lay_outside_the_scope() -> None:
    figures = Figures()
    figures.read["source"], figures.in_scope["source"] = 2_000, 1_000
    figures.ranges_done = figures.ranges_total = 2

    assert "(+1,000 outside the scope or past a key range's end)" in figures.describe(done=True)
    assert "key ranges 2 of 2 done" in figures.describe(done=True)
