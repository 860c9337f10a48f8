"""Applying a reviewed plan is the approval (issue 30): a plan made, shown and applied by
its run id is not guarded again (its re-check can only shrink it), so it needs no
--force; its own guard figures stay in the report; a plan that would grow is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def reconcile(
    pair: BucketPair, report: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> str:
    """A run with the default guard (maxPurge 100000, maxPurgeFraction 0.05): its run id."""
    assert main(reconcile_flags(pair, "--report", str(report), "--json", *extra)) == EXIT_OK
    return str(json.loads(capsys.readouterr().out)["runId"])


def vanished_keys(pair: BucketPair, count: int) -> None:
    pair.put_live()
    for i in range(1, count + 1):
        pair.put(f"gone-{i}", "x", bucket=pair.target)


def test_an_applied_plan_keeps_its_own_guard_figures_and_is_not_guarded_again(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dry run of 3 of 4 target entries, over the default 5% fraction
    vanished_keys(pair, 3)
    run_id = reconcile(pair, tmp_path, capsys, "--dry-run")

    # When it is applied by its run id, with the default limits and no --force
    code = main(reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", run_id, "--json"))

    # Then it purges, and its summary keeps the plan's guard figures, not tripped
    assert code == EXIT_OK
    summary = json.loads(capsys.readouterr().out)
    guard = summary["guard"]
    assert (summary["status"], summary["totals"]["purged"]) == ("SUCCEEDED", 3)
    assert (guard["tripped"], guard["forced"], guard["planned"]) == (False, False, 3)
    assert (guard["targetEntriesInScope"], guard["maxPurgeFraction"]) == (4, 0.05)
    assert f"applies run {run_id}'s reviewed plan" in guard["reason"]


def test_a_stored_plan_edited_to_purge_more_than_was_planned_is_refused(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dry run's plan of gone-1 and gone-2 (over the guard's 5%) ...
    vanished_keys(pair, 2)
    run_id = reconcile(pair, tmp_path, capsys, "--dry-run")
    # ... then gone-3 appears at the target and a line for it is added to the stored plan
    version = pair.put("gone-3", "x", bucket=pair.target)
    workspace = tmp_path / "syncpurge-work" / run_id
    (chunk,) = (workspace / "plan").iterdir()
    lines = chunk.read_bytes().splitlines()
    added = json.loads(lines[-1]) | {"k": "gone-3", "v": version}
    chunk.write_bytes(b"\n".join([*lines, json.dumps(added).encode()]) + b"\n")
    # and the chunk's recorded keys widened to match (the span check is not what is tested)
    (stats_file,) = (workspace / "diff-stats").iterdir()
    stats = json.loads(stats_file.read_text())
    stats["chunkSpans"][-1][1] = "gone-3"
    stats_file.write_text(json.dumps(stats))
    before = pair.entries()

    code = main(reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", run_id))

    # Then the plan, which its re-check can only shrink, is refused: nothing is deleted
    assert code == EXIT_INVALID
    assert "more than the 2 it planned and was reviewed with" in capsys.readouterr().err
    assert pair.entries() == before


@pytest.mark.parametrize(
    ("guard", "named"),
    [({"tripped": "maybe"}, "its 'guard' is not the guard's decision"), (99, "its guard counted")],
)
def test_a_plan_whose_guard_was_edited_is_refused_naming_its_file(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    guard: object,
    named: str,
) -> None:
    vanished_keys(pair, 2)
    run_id = reconcile(pair, tmp_path, capsys, "--dry-run")
    kept = tmp_path / "syncpurge-work" / run_id / "guard.json"
    figures = json.loads(kept.read_text())
    figures["guard"] = guard if isinstance(guard, dict) else {**figures["guard"], "planned": guard}
    kept.write_text(json.dumps(figures))
    before = pair.entries()

    code = main(reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", run_id))

    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert f"{kept}: {named}" in err
    assert pair.entries() == before
