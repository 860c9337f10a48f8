"""What the CLI shows of a run's entries: the dry run's plan preview with the command that
applies it, and `reports show --entries/--plan` rows, in the same columns."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from itertools import chain, islice
from typing import Any

from rich.console import Console

from syncpurge.cli.terminal import INDENT, print_line, print_prose, text_width
from syncpurge.models import Outcome, Proof, Rule, SkipReason
from syncpurge.phases.purge import OutcomeRecord
from syncpurge.phases.report import ENTRIES_PER_FILE, entries_file_name, record_to_line

RULE_WIDTH = max(len(rule.value) for rule in Rule)
PROOF_WIDTH = max(len(proof.value) for proof in Proof)
OUTCOME_WIDTH = max(len(outcome.value) for outcome in Outcome)
REASON_WIDTH = max(len(reason.value) for reason in SkipReason)
SHOWN_REASONS = (Outcome.SKIPPED, Outcome.RETAINED, Outcome.FAILED)
TYPE_WIDTH = len("version")
VERSION_WIDTH = 32  # an S3 VersionId's length


def shown_key(key: str) -> str:
    """A key on one line: characters a terminal would act on (newlines, escapes) as JSON
    escapes; everything else as it is."""
    if key.isprintable():
        return key
    return "".join(c if c.isprintable() else json.dumps(c)[1:-1] for c in key)


def entry_header(outcomes: bool, version_width: int = VERSION_WIDTH) -> str:
    head = f"{'OUTCOME':<{OUTCOME_WIDTH}}  {'REASON':<{REASON_WIDTH}}  " if outcomes else ""
    return (
        f"{INDENT}{head}{'RULE':<{RULE_WIDTH}}  {'PROOF':<{PROOF_WIDTH}}  "
        f"{'TYPE':<{TYPE_WIDTH}}  {'VERSION':<{version_width}}  KEY"
    )


def entry_row(line: dict[str, Any], outcomes: bool, version_width: int = VERSION_WIDTH) -> str:
    """An entries line (docs/design.md §8's field names) as a row under `entry_header`."""
    head = ""
    if outcomes:
        outcome = line.get("outcome") or "-"
        # why an entry was skipped, retained or failed (a planned or purged one's reason is
        # its proof in words); one word, so the columns stay whitespace-separated
        reason = line.get("reason") if outcome in SHOWN_REASONS else None
        reason = "-".join(str(reason).split()) if reason else "-"
        head = f"{outcome:<{OUTCOME_WIDTH}}  {reason:<{REASON_WIDTH}}  "
    kind = "marker" if line.get("isDeleteMarker") else "version"
    return (
        f"{INDENT}{head}{line.get('rule') or '-':<{RULE_WIDTH}}  "
        f"{line.get('proof') or '-':<{PROOF_WIDTH}}  {kind:<{TYPE_WIDTH}}  "
        f"{line.get('versionId') or '-':<{version_width}}  {shown_key(str(line.get('key', '')))}"
    )


SIZED_FROM = 1000  # the VERSION column is as wide as the longest of the first rows


def print_entries(console: Console, lines: Iterable[dict[str, Any]], outcomes: bool) -> int:
    """Rows for `lines` (streamed), under a header; how many there were."""
    rows = iter(lines)
    first = list(islice(rows, SIZED_FROM))
    if not first:
        return 0
    width = max(len(str(line.get("versionId") or "-")) for line in first)
    print_line(console, entry_header(outcomes, width), "bold")
    count = 0
    for line in chain(first, rows):
        print_line(console, entry_row(line, outcomes, width))
        count += 1
    return count


class PlanPreview:
    """The first `limit` entries a run planned and left in place (a dry run's, or a tripped
    guard's), as report lines, and how many it planned and reported in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.shown: list[dict[str, Any]] = []
        self.planned = 0
        self.lines = 0

    def add(self, record: OutcomeRecord) -> None:
        self.lines += 1
        if record.outcome is Outcome.PLANNED:
            self.planned += 1
            if len(self.shown) < self.limit:
                self.shown.append(record_to_line(record))

    def entries_files(self, location: str) -> str:
        """Where the run's report lists every entry: its entries file, or its folder."""
        folder = location.rstrip("/") + "/"
        files = max(1, -(-self.lines // ENTRIES_PER_FILE))
        if files == 1:
            return folder + entries_file_name(1)
        return f"{folder}entries/ ({files:,} files)"


def command_lines(groups: list[list[str]], width: int) -> list[str]:
    """A command as shell lines of at most `width` columns where it can, with ` \\`
    continuations: broken only between `groups` (a flag and its value stay together)."""
    words = [" ".join(shlex.quote(arg) for arg in group) for group in groups]
    lines = [INDENT + words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) + 2 <= width:
            lines[-1] += " " + word
        else:
            lines[-1] += " \\"
            lines.append(INDENT * 2 + word)
    return lines


def render_plan(
    console: Console, preview: PlanPreview, location: str, apply_command: list[list[str]]
) -> None:
    """What a run that deleted nothing planned: its first entries, where the rest are, and
    the command that purges exactly this plan."""
    if not preview.planned:
        return
    print_line(console, "")
    shown = len(preview.shown)
    first = f"the first {shown:,}" if shown < preview.planned else "all of them"
    heading = f"Planned to purge: {preview.planned:,} entries (nothing was deleted)"
    print_prose(console, f"{heading}; {first}:" if shown else f"{heading}.", style="bold")
    print_entries(console, preview.shown, outcomes=False)
    more = preview.planned - shown
    files = preview.entries_files(location)
    # one line whatever its length: the file's path is one to copy
    if more:
        print_line(console, f"{INDENT}… and {more:,} more (see {files})")
    else:
        print_line(console, f"{INDENT}(every entry, with its reason and size: {files})")
    print_line(console, "")
    print_prose(
        console,
        "To purge exactly this plan once reviewed (each entry is re-checked first: what no "
        "longer qualifies is skipped, nothing is added, and the guard is not applied again):",
        style="bold",
    )
    for line in command_lines(apply_command, text_width(console)):
        print_line(console, line)
