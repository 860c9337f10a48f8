"""What the CLI shows a person: exit codes, live progress, the summary table."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from syncpurge.core.guard import fraction_limit
from syncpurge.engine import RunResult
from syncpurge.models import GuardDecision, RunStatus
from syncpurge.summary import Summary

if TYPE_CHECKING:  # entries_view draws on this module's printing
    pass

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


def output_console() -> Console:
    """stdout: on a terminal as wide as it is; elsewhere rich never wraps (the lines below
    are wrapped to PLAIN_WIDTH by `print_rows`, between words only)."""
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


# ------------------------------------------------------------------ plain lines
#
# What the CLI prints is lines of text, on a terminal or off one: a table cell would fold
# or crop a path, an ARN, a run id or a key that is wider than it. A value is either a
# token (printed whole on its line, however long) or prose (wrapped between words, so a
# token inside it stays whole too). Off a terminal prose fits PLAIN_WIDTH columns.

PLAIN_WIDTH = 100
LABEL_WIDTH = len("retained / skipped / failed")
INDENT = "  "


def text_width(console: Console) -> int:
    return min(console.width, PLAIN_WIDTH) if console.is_terminal else PLAIN_WIDTH


def print_line(console: Console, text: str, style: str = "") -> None:
    """One line as is: no markup, no emoji codes, and rich neither wraps nor crops it."""
    console.print(Text(text, style=style), soft_wrap=True, highlight=False)


def wrap_words(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` columns, broken only at spaces: a word (a path,
    an ARN, a key) longer than `width` gets a line of its own, whole."""
    return textwrap.wrap(text, max(width, 20), break_long_words=False, break_on_hyphens=False) or [
        ""
    ]


def print_rows(console: Console, rows: list[tuple[str, str, bool]]) -> None:
    """Label/value lines; a value marked as prose wraps under itself, a token never."""
    width = text_width(console)
    gap = INDENT + " " * (LABEL_WIDTH + 2)
    for label, value, prose in rows:
        lines = wrap_words(value, width - len(gap)) if prose else [value]
        print_line(console, f"{INDENT}{label:<{LABEL_WIDTH}}  {lines[0]}")
        for more in lines[1:]:
            print_line(console, gap + more)


def print_prose(console: Console, text: str, indent: str = "", style: str = "") -> None:
    for line in wrap_words(text, text_width(console) - len(indent)):
        print_line(console, indent + line, style)


def percent(fraction: float) -> str:
    return f"{fraction * 100:g}%"


def guard_figures(guard: GuardDecision) -> str:
    """The guard's numbers in words: the plan's size against each of its two limits."""
    share = fraction_limit(guard.max_purge_fraction, guard.target_entries_in_scope)

    def within(limit: int) -> str:
        return ">" if guard.planned > limit else "≤"

    return (
        f"{guard.planned:,} planned {within(guard.max_purge)} maxPurge {guard.max_purge:,}, "
        f"and {within(share)} {share:,} (maxPurgeFraction {percent(guard.max_purge_fraction)} "
        f"of {guard.target_entries_in_scope:,} target entries in scope)"
    )


def guard_text(summary: Summary) -> str | None:
    """The summary's guard line: its verdict, then its figures in words."""
    guard = summary.guard
    if guard is None:
        return None
    figures = guard_figures(guard)
    if summary.applied_plan:
        return (
            f"not applied again: applying run {summary.applied_plan}'s reviewed plan approves "
            f"it, and its re-check only shrinks it. The plan's own guard: {figures}"
        )
    if guard.forced:
        return f"FORCED (--force) past its limits: {figures}"
    if guard.tripped and summary.dry_run:
        return (
            f"over its limits, so a run without --dry-run would delete nothing: {figures}. "
            "Applying this reviewed plan (--apply-plan, below) needs no --force"
        )
    if guard.tripped:
        return (
            f"TRIPPED, nothing was deleted: {figures}. Review the plan, then apply it "
            "(--apply-plan, below: no --force needed), or raise --max-purge / "
            "--max-purge-fraction, or use --force"
        )
    return f"passed: {figures}"


def render_summary(console: Console, summary: Summary, location: str) -> None:
    totals = summary.totals
    rows = [
        ("source → target", f"{summary.source_bucket} → {summary.target_bucket}", False),
        (
            "mode / prefixes",
            f"{summary.mode.value} / {', '.join(summary.prefixes) or '(all)'}",
            False,
        ),
        (
            "entries listed",
            f"source {totals.source_entries:,}, target {totals.target_entries:,}",
            False,
        ),
        ("planned", f"{totals.planned:,}", False),
        ("purged", f"{totals.purged:,} ({totals.bytes_reclaimed:,} bytes reclaimed)", False),
        (
            "retained / skipped / failed",
            f"{totals.retained:,} / {totals.skipped:,} / {totals.failed:,}",
            False,
        ),
        (
            "requests",
            f"list {summary.requests.list:,}, delete {summary.requests.delete:,}, "
            f"verify {summary.requests.verify:,}, head {summary.requests.head:,}",
            False,
        ),
    ]
    if summary.applied_plan:
        rows.append(("applied plan", summary.applied_plan, False))
    guard = guard_text(summary)
    if guard:
        rows.append(("guard", guard, True))
    rows.append(("report", location, False))
    rows.extend(("advisory", advisory, True) for advisory in summary.advisories)
    if summary.error:
        rows.append(("error", summary.error, True))
    print_line(console, f"syncpurge run {summary.run_id}: {summary.status.value}", "bold")
    print_rows(console, rows)


# ------------------------------------------------------------------ entries

# The columns an entry is shown with, wherever it comes from (a dry run's plan, a stored
# plan, a report's entries): each as wide as its longest value, the key last and whole.


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
