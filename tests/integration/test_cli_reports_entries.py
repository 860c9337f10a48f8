"""`syncpurge reports show RUN_ID --entries | --plan` (issue 30): what a run purged,
skipped or failed, and the plan it stored, in the columns a dry run lists its plan with;
`--json` prints one JSON object per line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_OK, main
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def reconcile(
    pair: BucketPair, report: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> str:
    """A run's id (the guard's fraction raised: these runs are small)."""
    flags = ["--report", str(report), "--max-purge-fraction", "1", "--json", *extra]
    assert main(reconcile_flags(pair, *flags)) == EXIT_OK
    return str(json.loads(capsys.readouterr().out)["runId"])


def vanished_keys(pair: BucketPair, count: int) -> list[str]:
    pair.put_live()
    keys = [f"gone-{i}" for i in range(1, count + 1)]
    for key in keys:
        pair.put(key, "x", bucket=pair.target)
    return keys


def test_reports_show_entries_lists_what_a_run_purged_and_skipped(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a plan of three keys, applied after gone-2 came back to the source
    vanished_keys(pair, 3)
    run_id = reconcile(pair, tmp_path, capsys, "--dry-run")
    pair.put("gone-2", "back")
    applied = reconcile(pair, tmp_path, capsys, "--apply-plan", run_id)

    code = main(["reports", "show", applied, "--from", str(tmp_path), "--entries"])

    out = capsys.readouterr().out
    assert code == EXIT_OK
    header = next(line for line in out.splitlines() if line.split()[:2] == ["OUTCOME", "REASON"])
    assert header.split() == ["OUTCOME", "REASON", "RULE", "PROOF", "TYPE", "VERSION", "KEY"]
    body = out.split(header, 1)[1].strip().splitlines()
    assert sorted((row.split()[-1], row.split()[0], row.split()[1]) for row in body) == [
        ("gone-1", "purged", "-"),
        ("gone-2", "skipped", "stale"),
        ("gone-3", "purged", "-"),
    ]

    code = main(["reports", "show", applied, "--from", str(tmp_path), "--entries", "--json"])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == EXIT_OK
    assert sorted((line["key"], line["outcome"]) for line in lines) == [
        ("gone-1", "purged"),
        ("gone-2", "skipped"),
        ("gone-3", "purged"),
    ]


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_reports_show_plan_decodes_a_stored_plan_to_the_same_columns(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    report = str(tmp_path)
    if where == "s3":
        pair.client.create_bucket(Bucket="run-reports")
        report = "s3://run-reports/runs/"
    keys = vanished_keys(pair, 2)
    code = main(reconcile_flags(pair, "--report", report, "--dry-run", "--json"))
    run_id = json.loads(capsys.readouterr().out)["runId"]
    assert code == EXIT_OK

    code = main(["reports", "show", run_id, "--from", report, "--plan", "--region", "us-east-1"])

    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert [row.split()[:4] for row in out.splitlines()[-2:]] == [
        ["planned", "-", "vanished-key", "vanished"]
    ] * 2
    assert [row.split()[-1] for row in out.splitlines()[-2:]] == keys

    code = main(["reports", "show", run_id, "--from", report, "--plan", "--json"])

    decoded = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == EXIT_OK
    assert [(d["key"], d["outcome"], d["rule"], d["proof"]) for d in decoded] == [
        (key, "planned", "vanished-key", "vanished") for key in keys
    ]
    assert {"versionId", "isDeleteMarker", "size", "lastModified", "detail"} <= set(decoded[0])
