"""The deployment's owner settings reach every request of every step (issue 19, first
part): a cross-account pair is purged; a bucket that changed hands fails in Prepare."""

from __future__ import annotations

import boto3
import pytest

from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.helpers import BucketPair, bucket_owners_checked, make_versioned_bucket
from tests.workflow.conftest import REPORTS, Deployed

pytestmark = pytest.mark.workflow

SOURCE_ACCOUNT, TARGET_ACCOUNT, SOMEONE_ELSE = "111111111111", "222222222222", "999999999999"


def cross_account(runtime: LocalRuntime, target_account: str) -> Deployed:
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = BucketPair(s3, "xa-source", "xa-target")
    make_versioned_bucket(s3, pair.source)
    make_versioned_bucket(s3, pair.target)
    s3.create_bucket(Bucket=REPORTS)
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
