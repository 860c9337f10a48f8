"""Which accounts the CLI expects to own the buckets (issue 19, first part)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, main
from syncpurge.cli.reconcile import expected_owners
from tests.helpers import (
    ACCESS_DENIED,
    BucketPair,
    bucket_owners_checked,
    make_versioned_bucket,
    moto_s3_answering,
    reconcile_flags,
    versioned_pair,
)

pytestmark = pytest.mark.integration

MOTO_ACCOUNT = "123456789012"  # what moto's STS answers GetCallerIdentity with


def args(**given: str | None) -> argparse.Namespace:
    values = {"source_account": None, "target_account": None, "report_account": None}
    values["task_arn"] = None
    return argparse.Namespace(region="us-east-1", profile=None, **{**values, **given})


@pytest.mark.usefixtures("aws")
def test_a_task_run_expects_the_caller_s_account_unless_a_flag_names_another() -> None:
    task = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"

    assert expected_owners(args(task_arn=task)) == (MOTO_ACCOUNT, MOTO_ACCOUNT, MOTO_ACCOUNT)
    assert expected_owners(args(task_arn=task, source_account="210987654321")) == (
        "210987654321",
        MOTO_ACCOUNT,
        MOTO_ACCOUNT,
    )
    assert expected_owners(args(task_arn=task, report_account="210987654321")) == (
        MOTO_ACCOUNT,
        MOTO_ACCOUNT,
        "210987654321",
    )


def test_without_a_task_only_the_flags_name_owners() -> None:
    # (any S3-compatible endpoint: the header goes only where the user asks for it)
    assert expected_owners(args()) == (None, None, None)
    assert expected_owners(args(target_account="210987654321")) == (None, "210987654321", None)
    assert expected_owners(args(report_account="210987654321")) == (None, None, "210987654321")


@pytest.mark.usefixtures("aws")
def test_a_task_of_another_account_is_refused_naming_both_accounts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # DataSync has no resource policies: a task is read only by its own account.
    task = "arn:aws:datasync:eu-west-1:210987654321:task/task-0123456789abcdef0"

    code = main(["reconcile", "--task-arn", task, "--report", str(tmp_path)])

    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert "--task-arn" in err
    assert "account 210987654321" in err
    assert f"account {MOTO_ACCOUNT}" in err


@pytest.mark.usefixtures("aws")
def test_a_report_bucket_of_another_account_is_refused_naming_the_expected_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a report bucket S3 says belongs to another account than --report-account
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = BucketPair(s3, "owners-source", "owners-target")
    for bucket in (pair.source, pair.target):
        make_versioned_bucket(s3, bucket)
    s3.create_bucket(Bucket="owners-reports")
    pair.put_live()
    pair.put("gone", bucket=pair.target)
    before = pair.entries()

    # When a run names that bucket as its report
    with bucket_owners_checked({"owners-reports": MOTO_ACCOUNT}):
        flags = ["--report", "s3://owners-reports/runs/", "--report-account", "210987654321"]
        code = main(reconcile_flags(pair, *flags, "--max-purge-fraction", "1"))

    # Then it is refused in one line naming the account it expected; nothing was deleted
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert "s3://owners-reports/runs/" in err
    assert "account 210987654321 (--report-account)" in err
    assert "nothing was deleted" in err
    assert pair.entries() == before


@pytest.mark.usefixtures("aws")
def test_a_stored_plan_the_report_bucket_refuses_to_read_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a report bucket that answers 403 to reading a stored plan (another owner's)
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = versioned_pair(s3, "owners-source", "owners-target", reports="owners-reports")
    pair.put_live()
    pair.put("gone", bucket=pair.target)
    before = pair.entries()

    def deny_reads(bucket: str, request: Any) -> Any:
        if bucket == "owners-reports" and request.method == "GET":
            return 403, {"Content-Type": "application/xml"}, ACCESS_DENIED
        return None

    # When a plan is applied from it
    with moto_s3_answering(deny_reads):
        flags = ["--report", "s3://owners-reports/runs/", "--apply-plan", "20261207T000000Z-abc"]
        code = main(reconcile_flags(pair, *flags))

    # Then the refusal is one line naming the bucket and the read it was denied
    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert "Traceback" not in err
    assert "owners-reports" in err
    assert "s3:GetObject" in err
    assert pair.entries() == before
