"""A run's progress on stderr, phase by phase, with a rate a person can guess the end from.

On a terminal it is one live line. Off one (a log file, CI, a pipe) it is a plain line
every few seconds while a phase runs, and one line when it ends: each phase's line once.

Entries listed are counted as the summary counts them, inside the scope. What the pages
held outside it (the run's own lock, report and workspace files, excluded prefixes) is
counted apart, so a target's figure is its own entries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.text import Text

from syncpurge.models import Outcome, PlannedEntry
from syncpurge.phases.purge import OutcomeRecord

if TYPE_CHECKING:
    from syncpurge.cli.entries_view import PlanPreview

SIDES = ("source", "target")
LOG_EVERY_SECONDS = 5.0
DONE = (Outcome.PURGED, Outcome.RETAINED, Outcome.SKIPPED, Outcome.FAILED)


@dataclass(slots=True)
class Figures:
    """What a run has done so far; `work` is what a phase's rate counts."""

    read: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    in_scope: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SIDES, 0))
    planned: int = 0
    rechecked: int = 0
    recheck_total: int | None = None
    ranges_done: int = 0
    ranges_total: int = 0
    outcomes: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(DONE, 0))

    def work(self, phase: str) -> tuple[int, str] | None:
        """The count a phase advances and its unit (None: a phase too short to rate)."""
        if phase == "purge":
            return sum(self.outcomes.values()), "entries done"
        if phase != "diff":
            return None
        if self.recheck_total is not None:
            return self.rechecked, "re-checked"
        return sum(self.in_scope.values()), "entries listed"

    def describe(self, done: bool) -> str:
        """The figures; a phase that is `done` also says what its pages held outside the
        scope (before then, some of what was read is only not diffed yet)."""
        outside = sum(self.read.values()) - sum(self.in_scope.values())
        listed = f"listed source {self.in_scope['source']:,}, target {self.in_scope['target']:,}"
        if done and outside > 0:
            # A cut diff reads each range's last page past its end: the next range's too.
            again = " or past a key range's end" if self.ranges_total > 1 else ""
            listed += f" (+{outside:,} outside the scope{again})"
        parts = [listed]
        if self.recheck_total is not None:
            parts.append(f"re-checked {self.rechecked:,} of {self.recheck_total:,}")
        if self.ranges_total > 1:
            parts.append(f"key ranges {self.ranges_done:,} of {self.ranges_total:,} done")
        parts.append(f"planned {self.planned:,}")
        if any(self.outcomes.values()):
            parts.append(", ".join(f"{o.value} {n:,}" for o, n in self.outcomes.items()))
        return "; ".join(parts)


class RunProgress:
    """The CLI's `ProgressListener` (syncpurge.phases.diffing): see the module's docstring."""

    def __init__(
        self,
        console: Console,
        preview: PlanPreview | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console, self._preview, self._clock = console, preview, clock
        self.figures = Figures()
        self._phase = ""
        self._phase_started = self._logged = clock()
        self._phase_work = 0
        self._live: Live | None = None
        self._lock = threading.Lock()
        if console.is_terminal:
            self._live = Live(
                get_renderable=self._line, console=console, refresh_per_second=4, transient=False
            )

    def __enter__(self) -> RunProgress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
        elif self._phase:
            self._print(done=True)

    # ------------------------------------------------------------------ the listener
    # A fanned-out diff tells it from several threads: one call at a time changes the
    # figures (the live line's own thread only reads them).

    def phase(self, name: str) -> None:
        with self._lock:
            if self._live is None and self._phase:
                self._print(done=True)  # the phase that ends, once
            self._phase, self._phase_started = name, self._clock()
            work = self.figures.work(name)
            self._phase_work = work[0] if work else 0

    def listed(self, side: str, entries: int) -> None:
        with self._lock:
            self.figures.read[side] += entries
            self._tick()

    def counted(self, side: str, entries: int) -> None:
        with self._lock:
            self.figures.in_scope[side] += entries

    def to_recheck(self, total: int) -> None:
        with self._lock:
            self.figures.recheck_total = total
            self._tick()

    def rechecked(self, entries: int) -> None:
        with self._lock:
            self.figures.rechecked += entries
            self._tick()

    def ranges(self, done: int, total: int) -> None:
        with self._lock:
            self.figures.ranges_done, self.figures.ranges_total = done, total
            self._tick()

    def planned(self, item: PlannedEntry) -> None:
        if item.to_purge:
            with self._lock:
                self.figures.planned += 1

    def outcome(self, record: OutcomeRecord) -> None:
        with self._lock:
            if self._preview is not None:
                self._preview.add(record)
            if record.outcome in self.figures.outcomes:
                self.figures.outcomes[record.outcome] += 1
                self._tick()

    # ------------------------------------------------------------------ output

    def _tick(self) -> None:
        if self._live is None and self._clock() - self._logged >= LOG_EVERY_SECONDS:
            self._print(done=False)

    def _line(self, done: bool = False) -> Text:
        seconds = max(self._clock() - self._phase_started, 1e-9)
        timing = f"done in {seconds:,.1f} s" if done else f"{seconds:,.0f} s"
        work = self.figures.work(self._phase)
        if work is not None:
            count, unit = work
            timing = f"{(count - self._phase_work) / seconds:,.0f} {unit}/s, {timing}"
        return Text(f"[{self._phase or 'starting'}] {self.figures.describe(done)} ({timing})")

    def _print(self, *, done: bool) -> None:
        self._console.print(self._line(done), soft_wrap=True)
        self._logged = self._clock()
