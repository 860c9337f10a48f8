"""`syncpurge reconcile --apply-plan` (issue 9, DESIGN §5): approve a dry run's plan, then
purge exactly it, each entry re-checked against fresh listings of its key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from syncpurge.report import read_entries_lines
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def run(pair: BucketPair, report: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    flags = ["--report", report, "--max-purge-fraction", "1", "--json", *extra]
    code = main(reconcile_flags(pair, *flags))
    assert code == EXIT_OK, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_a_stored_plan_applied_purges_exactly_it_and_skips_what_went_stale(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    report = str(tmp_path)
    if where == "s3":
        pair.client.create_bucket(Bucket="run-reports")
        report = "s3://run-reports/runs/"
    # Given a dry run's plan of three vanished keys
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)
    for key in ("gone-1", "gone-2", "gone-3"):
        pair.put(key, "x", bucket=pair.target)
    dry = run(pair, report, capsys, "--dry-run")
    assert dry["totals"]["planned"] == 3
    # When gone-2 comes back to the source and gone-4 appears before the plan is applied
    pair.put("gone-2", "back")
    pair.put("gone-4", "x", bucket=pair.target)

    applied = run(pair, report, capsys, "--apply-plan", dry["runId"])

    # Then the plan's entries that still qualify go, the stale one stays, gone-4 untouched
    assert applied["appliedPlan"] == dry["runId"]
    assert applied["totals"]["planned"] == 3  # the plan as stored
    assert (applied["totals"]["purged"], applied["totals"]["skipped"]) == (2, 1)
    assert pair.all_keys() == {"live", "gone-2", "gone-4"}
    if where == "folder":
        lines = list(read_entries_lines(tmp_path / applied["runId"]))
        assert {
            (line["key"], line["reason"]) for line in lines if line["outcome"] == "skipped"
        } == {("gone-2", "stale")}


def test_an_unknown_plan_is_refused_naming_the_flag(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("gone", "x", bucket=pair.target)
    before = pair.entries()

    code = main(reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", "nope"))

    assert code == EXIT_INVALID
    assert "--apply-plan" in capsys.readouterr().err
    assert pair.entries() == before
