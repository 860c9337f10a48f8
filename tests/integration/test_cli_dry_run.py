"""`reconcile --dry-run` says what it would delete (issue 30, "The admin's first hour"):
the planned entries, where the rest are, the command that applies the plan, and the
guard's numbers in words, with no path, ARN, run id or key broken across lines."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest
from rich.console import Console

from syncpurge.cli import EXIT_OK, main
from syncpurge.models import GuardDecision, Mode, RunStatus
from syncpurge.phases.report import read_entries_lines
from syncpurge.summary import Summary, Totals
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration

TITLE = re.compile(r"^syncpurge run (\S+): (\S+)$", re.MULTILINE)


def reconcile(
    pair: BucketPair, report: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    """(exit code, run id, stdout) of `syncpurge reconcile` on the pair."""
    code = main(reconcile_flags(pair, "--report", str(report), *extra))
    out = capsys.readouterr().out
    match = TITLE.search(out)
    assert match, out
    return code, match.group(1), out


def apply_command(out: str) -> list[str]:
    """The command a run's output ends with, as the words a shell would pass."""
    tail = out.split("To purge exactly this plan", 1)[1].split("\n", 2)[2]
    words = shlex.split(tail.replace(" \\\n", " "))
    assert words[:2] == ["syncpurge", "reconcile"], tail
    return words[1:]


def rows(out: str) -> list[str]:
    """The entry rows under the header (RULE ... KEY) of a run's output."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] in (["RULE", "PROOF"],))
    found = []
    for line in lines[start + 1 :]:
        if not line.startswith("  ") or line.lstrip().startswith(("…", "(")):
            break
        found.append(line)
    return found


def vanished_keys(pair: BucketPair, count: int, prefix: str = "gone-") -> list[str]:
    pair.put_live()
    keys = [f"{prefix}{i}" for i in range(1, count + 1)]
    for key in keys:
        pair.put(key, "x", bucket=pair.target)
    return keys


def test_a_dry_run_lists_what_it_would_delete_and_ends_with_the_command_that_applies_it(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two vanished keys, and a third whose target history is a version under a marker
    pair.put_live()
    versions = {key: pair.put(key, "x", bucket=pair.target) for key in ("gone-1", "gone-2")}
    versions["gone-3"] = pair.put("gone-3", "x", bucket=pair.target)
    pair.soft_delete("gone-3", bucket=pair.target)
    marker = pair.client.list_object_versions(Bucket=pair.target, Prefix="gone-3")["DeleteMarkers"][
        0
    ]["VersionId"]

    code, run_id, out = reconcile(pair, tmp_path, capsys, "--dry-run")

    # Then it lists each planned entry: rule, proof, marker or version, VersionId, key
    assert code == EXIT_OK
    listed = [line.split() for line in rows(out)]
    assert sorted((r[-1], r[-2], r[-3], r[0], r[1]) for r in listed) == sorted(
        [
            ("gone-1", versions["gone-1"], "version", "vanished-key", "vanished"),
            ("gone-2", versions["gone-2"], "version", "vanished-key", "vanished"),
            ("gone-3", versions["gone-3"], "version", "vanished-key", "vanished"),
            ("gone-3", marker, "marker", "vanished-key", "vanished"),
        ]
    )
    assert "Planned to purge: 4 entries (nothing was deleted); all of them:" in out
    # ... and ends with the command that applies it: the same buckets and report, no --force
    command = apply_command(out)
    assert command[-2:] == ["--apply-plan", run_id]
    assert "--force" not in command
    assert "--dry-run" not in command
    assert out.rstrip().endswith(run_id)
    assert pair.all_keys() == {"live", "gone-1", "gone-2", "gone-3"}

    # When that command runs (the plan is 4 of 5 target entries: over the 5% guard)
    applied = main([*command, "--json"])

    # Then it purges exactly the plan, with no --force
    summary = json.loads(capsys.readouterr().out)
    assert applied == EXIT_OK
    assert summary["status"] == "SUCCEEDED"
    assert (summary["appliedPlan"], summary["totals"]["purged"]) == (run_id, 4)
    assert pair.all_keys() == {"live"}


def test_a_long_plan_shows_its_first_entries_then_how_many_more_and_where(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = vanished_keys(pair, 5)

    code, run_id, out = reconcile(pair, tmp_path, capsys, "--dry-run", "--show", "2")

    assert code == EXIT_OK
    assert [line.split()[-1] for line in rows(out)] == keys[:2]
    entries = tmp_path / run_id / "entries" / "entries-00001.jsonl"
    assert f"  … and 3 more (see {entries})" in out.splitlines()
    assert [line["key"] for line in read_entries_lines(tmp_path / run_id)] == keys


def test_a_guard_that_trips_explains_its_numbers_and_shows_the_plan_to_apply(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vanished_keys(pair, 3)

    code, run_id, out = reconcile(pair, tmp_path, capsys, "--max-purge", "2")

    assert code == 3  # GUARD_TRIPPED: nothing deleted
    guard = " ".join(out.split("  guard", 1)[1].split("  report", 1)[0].split())
    assert guard.startswith(
        "TRIPPED, nothing was deleted: 3 planned > maxPurge 2, and > 0 (maxPurgeFraction 5% "
        "of 4 target entries in scope)."
    )
    assert apply_command(out)[-2:] == ["--apply-plan", run_id]
    assert len(rows(out)) == 3


def test_the_summary_says_what_the_guards_numbers_mean(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vanished_keys(pair, 1)

    _, _, out = reconcile(pair, tmp_path, capsys, "--dry-run", "--max-purge-fraction", "0.5")

    guard = " ".join(out.split("  guard", 1)[1].split("  report", 1)[0].split())
    assert guard == (
        "passed: 1 planned ≤ maxPurge 100,000, and ≤ 1 (maxPurgeFraction 50% of 2 target "
        "entries in scope)"
    )


def test_help_says_what_the_guards_numbers_mean_and_that_a_reviewed_plan_needs_no_force(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["reconcile", "--help"])

    text = " ".join(capsys.readouterr().out.split())
    assert "The summary's guard line gives both: e.g. '425 planned ≤ maxPurge 100,000" in text
    assert "applying a reviewed plan with --apply-plan needs no --force" in text
    assert "the guard is not applied again" in text


def test_off_a_terminal_the_summary_fits_100_columns_and_no_token_is_broken(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a report folder and a key each longer than the width, and a tripped guard's prose
    long_key = "deep/" + "k" * 150 + ".log"
    pair.put_live()
    pair.put(long_key, "x", bucket=pair.target)
    report = tmp_path / ("a-report-folder-with-a-long-name-" * 2) / ("and-deeper-" * 4)

    code, run_id, out = reconcile(pair, report, capsys, "--dry-run")

    assert code == EXIT_OK
    lines = out.splitlines()
    summary = lines[: lines.index("")]
    tokens = (str(report), long_key)
    # Then every summary line fits 100 columns, but a line that holds a long token whole
    assert all(len(line) <= 100 or any(t in line for t in tokens) for line in summary)
    assert any(len(line) > 50 for line in summary)  # the guard's prose was wrapped, not cut
    assert any(f"{report / run_id}" in line for line in summary)
    # ... the key and the paths are on one line each, whole, wherever they are printed
    assert sum(long_key in line for line in lines) == 1
    assert any(str(report) in line for line in lines[lines.index("") :])
    # ... and the command parts never break inside a flag's value
    command = apply_command(out)
    assert command[command.index("--report") + 1] == str(report)


def test_on_a_narrow_terminal_paths_run_ids_and_keys_are_never_broken() -> None:
    from syncpurge.cli.entries_view import PlanPreview, render_plan
    from syncpurge.cli.terminal import render_summary

    run_id = "20261207T051440Z-2c16cf"
    location = "/var/tmp/" + "a-long-report-folder/" * 4 + run_id
    summary = Summary(
        run_id=run_id,
        status=RunStatus.DRY_RUN,
        mode=Mode.DATASYNC,
        dry_run=True,
        source_bucket="acme-prod-data",
        target_bucket="acme-prod-data-copy",
        prefixes=[],
        started_at="2026-12-07T05:14:40+00:00",
        totals=Totals(planned=1, target_entries=8500),
        guard=GuardDecision(
            tripped=False,
            forced=False,
            planned=425,
            target_entries_in_scope=8500,
            max_purge=100_000,
            max_purge_fraction=0.05,
        ),
        advisories=["arn:aws:datasync:eu-west-1:123456789012:task/task-0123456789abcdef0 " * 2],
    )
    preview = PlanPreview(5)
    key = "logs/" + "segment-" * 12 + "end.gz"
    preview.shown.append(
        {"key": key, "versionId": "v" * 32, "rule": "vanished-key", "proof": "vanished"}
    )
    preview.planned = preview.lines = 1
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=40, color_system=None)

    render_summary(console, summary, location)
    render_plan(console, preview, location, [["syncpurge", "reconcile"], ["--report", location]])

    text = screen.getvalue()
    for token in (location, key, run_id, "task/task-0123456789abcdef0"):
        assert token in text, token
    assert "425 planned ≤ maxPurge 100,000, and ≤ 425 (maxPurgeFraction 5% of" in " ".join(
        text.split()
    )


def test_the_summary_of_an_applied_plan_says_its_guard_is_the_plans(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vanished_keys(pair, 3)
    _, run_id, out = reconcile(pair, tmp_path, capsys, "--dry-run")
    assert "over its limits, so a run without --dry-run would delete nothing" in " ".join(
        out.split()
    )

    code, _, out = reconcile(pair, tmp_path, capsys, "--apply-plan", run_id)

    assert code == EXIT_OK
    assert (
        f"not applied again: applying run {run_id}'s reviewed plan approves it, and its "
        "re-check only shrinks it. The plan's own guard: 3 planned ≤ maxPurge 100,000, and "
        "> 0 (maxPurgeFraction 5% of 4 target entries in scope)"
    ) in " ".join(out.split())
