"""What the CLI shows a person: exit codes, live progress, the summary table."""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from syncpurge.engine import RunResult
from syncpurge.models import Outcome, PlannedEntry, RunStatus, Summary
from syncpurge.purge import OutcomeRecord

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_GUARD = 3
EXIT_INTERRUPTED = 130  # the shell's code for a run stopped by Ctrl-C (128 + SIGINT)


def say(console: Console, label: str, message: str) -> None:
    """A labelled line whose message is printed as is: S3 and botocore messages hold
    brackets and colons that rich would otherwise read as markup."""
    console.print(Text.assemble((f"{label}: ", "bold red"), message))


# Request field (alias) -> the flag that sets it, so validation errors name the flag.
FLAG_OF_FIELD = {
    "prefixes": "--prefix",
    "dryRun": "--dry-run",
    "mode": "--mode",
    "rules": "--rules",
    "graceMinutes": "--grace-minutes",
    "maxPurge": "--max-purge",
    "maxPurgeFraction": "--max-purge-fraction",
    "force": "--force",
    "bypassGovernance": "--bypass-governance",
    "allowUnrelatedSource": "--allow-unrelated-source",
    "overridePreserve": "--override-preserve",
    "applyPlan": "--apply-plan",
}


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


COUNTERS = (
    "source listed",
    "target listed",
    "planned",
    "purged",
    "retained",
    "skipped",
    "failed",
)
LOG_EVERY_SECONDS = 5.0


class RichProgress:
    """Counters on stderr: entries listed per side, planned, and outcomes.

    On a terminal they are live rich counters; otherwise (a log file, CI, a pipe) a plain
    line every few seconds and one at the end, so a run hours long still shows progress.
    """

    def __init__(self, console: Console) -> None:
        self._console = console
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._phase = "starting"
        self._logged = time.monotonic()
        self._live: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        if console.is_terminal:
            self._live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("[bold]{task.completed:,}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            for name in ("phase", *COUNTERS):
                self._tasks[name] = self._live.add_task(name, total=None)

    def __enter__(self) -> RichProgress:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
        else:
            self._log()

    def _log(self) -> None:
        figures = ", ".join(f"{name} {count:,}" for name, count in self._counts.items())
        self._console.print(f"[{self._phase}] {figures}", markup=False, soft_wrap=True)
        self._logged = time.monotonic()

    def _add(self, name: str, n: int = 1) -> None:
        self._counts[name] += n
        if self._live is not None:
            self._live.advance(self._tasks[name], n)
        elif time.monotonic() - self._logged >= LOG_EVERY_SECONDS:
            self._log()

    def phase(self, name: str) -> None:
        self._phase = name
        if self._live is not None:
            self._live.update(self._tasks["phase"], description=f"phase: {name}")
        else:
            self._log()

    def listed(self, side: str, entries: int) -> None:
        self._add(f"{side} listed", entries)

    def planned(self, item: PlannedEntry) -> None:
        if item.to_purge:
            self._add("planned")

    def outcome(self, record: OutcomeRecord) -> None:
        if record.outcome is not Outcome.PLANNED:
            self._add(record.outcome.value)


def output_console() -> Console:
    """stdout: on a terminal as wide as it is; elsewhere nothing wraps."""
    console = Console()
    return console if console.is_terminal else Console(width=10_000)


def exit_code_for(result: RunResult) -> int:
    if result.refusal is not None:
        return EXIT_INVALID
    summary = result.summary
    if summary.status is RunStatus.GUARD_TRIPPED:
        return EXIT_GUARD
    if summary.status is RunStatus.FAILED or summary.totals.failed:
        return EXIT_FAILED
    return EXIT_OK


def render_summary(console: Console, summary: Summary, location: str) -> None:
    table = Table(
        title=f"syncpurge run {summary.run_id}: {summary.status.value}", show_header=False
    )
    totals = summary.totals
    rows = [
        ("source → target", f"{summary.source_bucket} → {summary.target_bucket}"),
        ("mode / prefixes", f"{summary.mode.value} / {', '.join(summary.prefixes) or '(all)'}"),
        ("entries listed", f"source {totals.source_entries:,}, target {totals.target_entries:,}"),
        ("planned", f"{totals.planned:,}"),
        ("purged", f"{totals.purged:,} ({totals.bytes_reclaimed:,} bytes reclaimed)"),
        (
            "retained / skipped / failed",
            f"{totals.retained:,} / {totals.skipped:,} / {totals.failed:,}",
        ),
        (
            "requests",
            f"list {summary.requests.list:,}, delete {summary.requests.delete:,}, "
            f"verify {summary.requests.verify:,}, head {summary.requests.head:,}",
        ),
        ("report", location),
    ]
    if summary.guard and summary.guard.reason:
        rows.append(("guard", ("FORCED: " if summary.guard.forced else "") + summary.guard.reason))
    rows.extend(("advisory", advisory) for advisory in summary.advisories)
    if summary.error:
        rows.append(("error", summary.error))
    for name, value in rows:
        table.add_row(name, Text(value))
    console.print(table)


def request_doc(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields the §7 flags set (and only those)."""
    doc: dict[str, Any] = {}
    if args.prefixes:
        doc["prefixes"] = args.prefixes
    if args.mode:
        doc["mode"] = args.mode
    if args.rules is not None:
        doc["rules"] = [r.strip() for r in args.rules.split(",") if r.strip()]
    if getattr(args, "apply_plan", None) is not None:
        doc["applyPlan"] = args.apply_plan
    for flag, field in (
        ("dry_run", "dryRun"),
        ("force", "force"),
        ("bypass_governance", "bypassGovernance"),
        ("allow_unrelated_source", "allowUnrelatedSource"),
        ("override_preserve", "overridePreserve"),
    ):
        if getattr(args, flag):
            doc[field] = True
    for flag, field in (
        ("grace_minutes", "graceMinutes"),
        ("max_purge", "maxPurge"),
        ("max_purge_fraction", "maxPurgeFraction"),
    ):
        if getattr(args, flag) is not None:
            doc[field] = getattr(args, flag)
    return doc
