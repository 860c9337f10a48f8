"""What the CLI shows a person: exit codes, live progress, the summary table."""

from __future__ import annotations

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
}


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.code = code


class RichProgress:
    """Live counters on stderr: entries listed per side, planned, and outcomes."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[bold]{task.completed:,}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        for name in (
            "phase",
            "source listed",
            "target listed",
            "planned",
            "purged",
            "retained",
            "skipped",
            "failed",
        ):
            self._tasks[name] = self._progress.add_task(name, total=None)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def phase(self, name: str) -> None:
        self._progress.update(self._tasks["phase"], description=f"phase: {name}")

    def listed(self, side: str, entries: int) -> None:
        self._progress.advance(self._tasks[f"{side} listed"], entries)

    def planned(self, item: PlannedEntry) -> None:
        if item.to_purge:
            self._progress.advance(self._tasks["planned"])

    def outcome(self, record: OutcomeRecord) -> None:
        if record.outcome is not Outcome.PLANNED:
            self._progress.advance(self._tasks[record.outcome.value])


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
