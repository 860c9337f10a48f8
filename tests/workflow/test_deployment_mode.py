"""The deployment's mode is every request's default, on each path into the state machine
(issue 17, defect 6; docs/design.md §12): a replication deployment has no task to run datasync
mode with, and datasync mode would purge a vanished key's entries without replica proof."""

from __future__ import annotations

import json

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.helpers import BucketPair, make_versioned_bucket
from tests.workflow.conftest import REPORTS, Deployed

pytestmark = pytest.mark.workflow


def replication_deployment(runtime: LocalRuntime) -> Deployed:
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = BucketPair(s3, "rep-source", "rep-target")
    make_versioned_bucket(s3, pair.source)
    make_versioned_bucket(s3, pair.target)
    if REPORTS not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=REPORTS)
    deployment = LocalDeployment(pair.source, pair.target, REPORTS, mode="replication")
    arn = runtime.deploy(deployment, name="syncpurge-replication")
    # Given a key both hold, and objects written at the target that S3 Replication never
    # made (not replicas): a datasync-mode run would take them for vanished keys
    for bucket in (pair.source, pair.target):
        pair.put("live", "x", bucket=bucket)
    pair.put("written-at-target", "theirs", bucket=pair.target)
    pair.put("seeded-copy", "seed", bucket=pair.target)
    return Deployed(runtime, pair, "", arn)


def test_a_console_start_on_a_replication_deployment_runs_in_replication_mode(
    runtime: LocalRuntime,
) -> None:
    deployed = replication_deployment(runtime)
    before = deployed.pair.entries()

    result = deployed.run({"maxPurgeFraction": 1, "graceMinutes": 0})

    assert result.status == "SUCCEEDED", result.cause
    summary, lines = deployed.report(result)
    assert summary["mode"] == "replication"
    assert {(line["key"], line["reason"]) for line in lines} == {
        ("live", "not-a-replica"),
        ("written-at-target", "not-a-replica"),
        ("seeded-copy", "not-a-replica"),
    }
    assert deployed.pair.entries() == before


def test_syncpurge_start_without_mode_takes_the_deployment_s(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = replication_deployment(runtime)
    before = deployed.pair.entries()
    flags = ["--state-machine-arn", deployed.state_machine_arn, "--region", "us-east-1"]

    code = main(["start", *flags, "--max-purge-fraction", "1", "--grace-minutes", "0", "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert summary["mode"] == "replication"
    assert deployed.pair.entries() == before


@pytest.mark.parametrize("deployment", ["replication", "datasync"])
def test_a_request_for_the_other_mode_is_invalid_input_naming_mode(
    runtime: LocalRuntime, deployed: Deployed, deployment: str
) -> None:
    if deployment == "replication":
        deployed = replication_deployment(runtime)
    other = "datasync" if deployment == "replication" else "replication"
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)
    before = deployed.pair.entries()

    result = deployed.run({"mode": other, "maxPurgeFraction": 1})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert (result.cause or "").startswith("mode:")
    assert f"runs in {deployment} mode" in (result.cause or "")
    assert deployed.pair.entries() == before


def test_start_with_the_other_mode_exits_2(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = replication_deployment(runtime)
    flags = ["--state-machine-arn", deployed.state_machine_arn, "--region", "us-east-1"]

    code = main(["start", *flags, "--mode", "datasync"])

    assert code == EXIT_INVALID
    assert "mode:" in capsys.readouterr().err
