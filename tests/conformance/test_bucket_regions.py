"""Each bucket is called in its own Region, with no request leaning on a redirect (issue 19).

Neither moto nor LocalStack answers a request signed for the wrong Region as S3 does, so the
tests' proxy does (S3 API reference, "Error responses": 301 PermanentRedirect, and
HeadBucket: the bucket's Region in x-amz-bucket-region), and records the Region of each
request's SigV4 credential scope. A run that signed a source request for the default Region
would be answered 301 and, through botocore's redirector, send it twice.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from syncpurge.cli import EXIT_OK, main
from tests.helpers import BucketPair, make_versioned_bucket, reconcile_flags
from tests.s3proxy import ProxyLog, s3_proxy

pytestmark = [pytest.mark.conformance, pytest.mark.xdist_group("conformance")]

SOURCE_REGION, TARGET_REGION = "eu-west-1", "us-east-1"


def two_region_pair(endpoint: str) -> BucketPair:
    stem = f"sp-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=TARGET_REGION)
    pair = BucketPair(client=client, source=f"{stem}-src", target=f"{stem}-dst")
    make_versioned_bucket(client, pair.source, region=SOURCE_REGION)
    make_versioned_bucket(client, pair.target)
    return pair


@pytest.mark.parametrize("regions_given", [True, False], ids=["flags", "asked"])
def test_each_bucket_is_called_in_its_own_region_with_no_redirect(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], regions_given: bool
) -> None:
    # Given the seed's Case 2 with the source in eu-west-1 and the target in us-east-1,
    # behind a proxy that answers a wrongly signed request as S3 does
    pair = two_region_pair(endpoint)
    pair.seed_case_2()
    log = ProxyLog(regions={pair.source: SOURCE_REGION, pair.target: TARGET_REGION})
    flags = ["--source-region", SOURCE_REGION, "--target-region", TARGET_REGION]

    # When the CLI runs with the default Region us-east-1 (the flags, or asking each bucket)
    with s3_proxy(endpoint, log=log) as (url, _):
        code = main(
            reconcile_flags(
                pair,
                "--endpoint-url",
                url,
                "--region",
                TARGET_REGION,
                "--report",
                str(tmp_path),
                "--max-purge-fraction",
                "1",
                "--json",
                *(flags if regions_given else ()),
            )
        )

    # Then Case 2 is purged; every request on a bucket but the one question where the
    # source is was signed for that bucket's Region, and nothing was sent twice
    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK, summary.get("error")
    assert summary["totals"]["purged"] == 2
    assert (summary["sourceRegion"], summary["targetRegion"]) == (SOURCE_REGION, TARGET_REGION)
    asked = [] if regions_given else [("HEAD", pair.source, TARGET_REGION)]
    assert log.redirected == asked
    home = {pair.source: SOURCE_REGION, pair.target: TARGET_REGION}
    on_pair = [(m, b, r) for m, b, r in log.signed if b in home]
    answered = [(m, b, r) for m, b, r in on_pair if (m, b, r) not in asked]
    assert {b for _, b, _ in answered} == {pair.source, pair.target}
    assert all(region == home[bucket] for _, bucket, region in answered), answered
    assert {m for m, b, _ in answered if b == pair.source} >= {"GET", "HEAD"}
    assert {m for m, b, _ in answered if b == pair.target} >= {"GET", "PUT", "POST", "DELETE"}
