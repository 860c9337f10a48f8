"""`syncpurge reports list|show` (issue 9): past runs from a folder, s3://, or a stack."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, main
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def two_runs(pair: BucketPair, report: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """A dry run, then a run that purges; their run ids, oldest first."""
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    ids = []
    for extra in (["--dry-run"], []):
        flags = ["--report", report, "--max-purge-fraction", "1", "--json", *extra]
        assert main(reconcile_flags(pair, *flags)) == 0
        ids.append(json.loads(capsys.readouterr().out)["runId"])
    return ids


def reports(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["reports", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reports_list_and_show_read_a_local_folder(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dry, real = two_runs(pair, str(tmp_path), capsys)

    code, out, _ = reports(capsys, "list", "--from", str(tmp_path), "--json")
    listed = json.loads(out)
    assert code == 0
    assert [s["runId"] for s in listed] == [real, dry]  # newest first
    assert [s["status"] for s in listed] == ["SUCCEEDED", "DRY_RUN"]

    code, out, _ = reports(capsys, "show", dry, "--from", str(tmp_path), "--json")
    assert code == 0
    assert json.loads(out)["totals"]["planned"] == 1

    code, out, _ = reports(capsys, "list", "--from", str(tmp_path))
    assert code == 0
    assert dry in out
    assert "DRY_RUN" in out


def test_reports_read_s3_and_a_stacks_report_location(
    pair: BucketPair, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given runs reported to S3, and a stack whose ReportLocation output names that place
    pair.client.create_bucket(Bucket="run-reports")
    dry, real = two_runs(pair, "s3://run-reports/runs/", capsys)
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ReportLocation": {"Value": "s3://run-reports/runs/"}},
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="syncpurge", TemplateBody=json.dumps(template)
    )

    for where in (["--from", "s3://run-reports/runs/"], ["--stack", "syncpurge"]):
        code, out, _ = reports(capsys, "list", *where, "--region", "us-east-1", "--json")
        assert code == 0
        assert [s["runId"] for s in json.loads(out)] == [real, dry]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["show", "no-such-run"], "RUN_ID"),
        (["list", "--from", "/no/such/folder"], "--from"),
        (["list", "--stack", "no-such-stack", "--region", "us-east-1"], "--stack"),
    ],
)
def test_reports_refuse_what_they_cannot_read(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    named: str,
) -> None:
    two_runs(pair, str(tmp_path), capsys)
    if "--from" not in args and "--stack" not in args:
        args = [*args, "--from", str(tmp_path)]

    code, _, err = reports(capsys, *args)

    assert code == EXIT_INVALID
    assert named in err
    assert "Traceback" not in err
