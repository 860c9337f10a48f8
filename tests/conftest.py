"""Shared fixtures: moto-backed S3 with a versioned source/target pair."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from hypothesis import HealthCheck, settings
from moto import mock_aws

from syncpurge_local.moto_s3 import s3_paging
from tests.helpers import BucketPair, make_versioned_bucket

# CI runs 200 examples per property (the moto-backed ones a share of that);
# `--hypothesis-profile deep` runs 10,000 of every property (docs: ./dev deep).
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "deep", max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile("ci")


def property_examples(share: int) -> int:
    """A costly property's examples: `1/share` of the profile's in CI, and all of them
    (10,000) in the deep profile."""
    default = settings.default.max_examples
    return max(1, default // share) if default < 10_000 else default


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call; fake credentials so nothing can reach a real account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Key-range listings start at a KeyMarker alone: moto must page as S3 does.
    with mock_aws(), s3_paging():
        yield


@pytest.fixture
def s3(aws: None):  # type: ignore[no-untyped-def]
    return boto3.client("s3", region_name="us-east-1")


@pytest.fixture
def pair(s3) -> BucketPair:  # type: ignore[no-untyped-def]
    result = BucketPair(client=s3, source="syncpurge-src", target="syncpurge-dst")
    make_versioned_bucket(s3, result.source)
    make_versioned_bucket(s3, result.target)
    return result
