"""Each bucket is called in its own Region by every step (issue 19): found once, in Prepare,
or taken from the deployment's settings; no step's request leans on a redirect."""

from __future__ import annotations

import boto3
import pytest

from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.helpers import BucketPair, bucket_regions_checked, make_versioned_bucket
from tests.workflow.conftest import REPORTS, Deployed

pytestmark = pytest.mark.workflow

SOURCE_REGION, HOME = "eu-west-1", "us-east-1"  # HOME: the Lambda functions' own Region


def two_regions(runtime: LocalRuntime, source_region: str) -> Deployed:
    s3 = boto3.client("s3", region_name=HOME)
    pair = BucketPair(s3, "xr-source", "xr-target")
    make_versioned_bucket(s3, pair.source, region=SOURCE_REGION)
    make_versioned_bucket(s3, pair.target)
    s3.create_bucket(Bucket=REPORTS)
    pair.seed_case_2()
    deployment = LocalDeployment(pair.source, pair.target, REPORTS, source_region=source_region)
    return Deployed(runtime, pair, "", runtime.deploy(deployment))


@pytest.mark.parametrize("setting", [SOURCE_REGION, "auto"])
def test_every_step_calls_the_source_in_its_own_region(runtime: LocalRuntime, setting: str) -> None:
    # Given Case 2 with the source in eu-west-1, the functions in us-east-1, and S3
    # answering a request signed for the wrong Region with a redirect
    deployed = two_regions(runtime, setting)
    regions = {deployed.pair.source: SOURCE_REGION, deployed.pair.target: HOME, REPORTS: HOME}

    # When the state machine runs (sourceRegion set, or asked of the bucket)
    with bucket_regions_checked(regions) as redirected:
        result = deployed.run({"maxPurgeFraction": 1.0})

    # Then Case 2 is purged, the report names each bucket's Region, and the only request
    # answered with a redirect is Prepare's one question where the source is
    assert result.status == "SUCCEEDED", result.cause
    summary, _ = deployed.report(result)
    assert summary["totals"]["purged"] == 2
    assert (summary["sourceRegion"], summary["targetRegion"]) == (SOURCE_REGION, HOME)
    asked = [("HEAD", deployed.pair.source, HOME)] if setting == "auto" else []
    assert redirected == asked
