"""The deployment's owner settings reach every request of every step (issue 19, first
part): a cross-account pair is purged; a bucket that changed hands fails in Prepare."""

from __future__ import annotations

import boto3
import pytest

from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.helpers import bucket_owners_checked, versioned_pair
from tests.workflow.conftest import REPORTS, Deployed, deploy

pytestmark = pytest.mark.workflow

SOURCE_ACCOUNT, TARGET_ACCOUNT, SOMEONE_ELSE = "111111111111", "222222222222", "999999999999"


def cross_account(runtime: LocalRuntime, target_account: str) -> Deployed:
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = versioned_pair(s3, "xa-source", "xa-target", reports=REPORTS)
    pair.seed_case_2()
    deployment = LocalDeployment(
        pair.source,
        pair.target,
        REPORTS,
        source_account=SOURCE_ACCOUNT,
        target_account=target_account,
    )
    return Deployed(runtime, pair, "", runtime.deploy(deployment))


def test_a_cross_account_pair_is_purged_with_every_request_naming_its_owner(
    runtime: LocalRuntime,
) -> None:
    deployed = cross_account(runtime, TARGET_ACCOUNT)
    owners = {deployed.pair.source: SOURCE_ACCOUNT, deployed.pair.target: TARGET_ACCOUNT}

    with bucket_owners_checked(owners) as seen:
        result = deployed.run({"maxPurgeFraction": 1.0})

    assert result.status == "SUCCEEDED", result.cause
    summary, _ = deployed.report(result)
    assert summary["totals"]["purged"] == 2
    assert seen
    assert all(expected == owners[bucket] for bucket, expected in seen), seen


def test_a_target_that_changed_hands_fails_in_prepare_with_nothing_deleted(
    runtime: LocalRuntime,
) -> None:
    # Given a deployment that expects the target in an account that no longer owns it
    deployed = cross_account(runtime, SOMEONE_ELSE)
    owners = {deployed.pair.source: SOURCE_ACCOUNT, deployed.pair.target: TARGET_ACCOUNT}
    before = deployed.pair.entries()

    with bucket_owners_checked(owners):
        result = deployed.run({"maxPurgeFraction": 1.0})

    assert result.status == "FAILED"
    assert result.error == "PreflightRefused"
    assert deployed.pair.target in (result.cause or "")
    assert SOMEONE_ELSE in (result.cause or "")
    assert deployed.pair.entries() == before


@pytest.mark.parametrize("report_in", ["stack-account", "target-account"])
def test_the_task_s_report_bucket_may_lie_in_either_account(
    runtime: LocalRuntime, report_in: str
) -> None:
    # Given a DataSync task (in the stack's account, with the source) copying to a target in
    # another account, its task reports in the stack's bucket or in a bucket of the target's
    # account
    reports = REPORTS if report_in == "stack-account" else "wf-target-account-reports"
    if report_in == "target-account":
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=reports)
    deployed = deploy(runtime, accounts=(SOURCE_ACCOUNT, TARGET_ACCOUNT), report_bucket=reports)
    pair = deployed.pair
    first = pair.put("doc", "first")
    assert deployed.run({"maxPurgeFraction": 1.0}).status == "SUCCEEDED"
    pair.put("doc", "FIRST")  # the same size: only lineage tells the copies apart
    pair.delete_version("doc", first)
    owners = {pair.source: SOURCE_ACCOUNT, pair.target: TARGET_ACCOUNT}

    # When the next run syncs and diffs, every request naming its bucket's owner
    with bucket_owners_checked(owners) as seen:
        result = deployed.run({"maxPurgeFraction": 1.0})

    # Then the copy of the gone version goes by lineage, read from the task's reports
    assert result.status == "SUCCEEDED", result.cause
    summary, lines = deployed.report(result)
    assert summary["byProof"] == {"lineage": 1}, lines
    # (the DataSync stand-in's own copying names no owner: it is not syncpurge's request)
    named = [(bucket, expected) for bucket, expected in seen if expected is not None]
    assert all(expected == owners[bucket] for bucket, expected in named), named
    assert {bucket for bucket, _ in named} == {pair.source, pair.target}


def test_a_task_in_another_account_than_the_stack_fails_in_prepare(
    runtime: LocalRuntime,
) -> None:
    deployed = cross_account(runtime, TARGET_ACCOUNT)
    task = f"arn:aws:datasync:us-east-1:{SOMEONE_ELSE}:task/task-0123456789abcdef0"
    arn = runtime.deploy(
        LocalDeployment(deployed.pair.source, deployed.pair.target, REPORTS, task_arn=task),
        name="other-task",
    )
    before = deployed.pair.entries()

    result = runtime.run(arn, {"maxPurgeFraction": 1.0})

    assert result.status == "FAILED"
    assert result.error == "PreflightRefused"
    assert SOMEONE_ELSE in (result.cause or "")
    assert "deploy syncpurge in the account and Region where the task lives" in (result.cause or "")
    assert deployed.pair.entries() == before
