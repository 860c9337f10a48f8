"""Defect 13: one key the source can't be listed about blocks nothing else.

LocalStack 2026.3 answers `EncodingType=url` listings with Key and Prefix URL-encoded but
KeyMarker and NextKeyMarker raw: a U+0001 in either makes its XML unparsable, which botocore
takes for a 500 and retries to exhaustion. `tests.s3proxy` answers so in front of moto's
server (`ProxyLog.unencoded`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from syncpurge.data.clients import make_s3_client
from syncpurge.models import RunStatus
from tests.helpers import BucketPair, make_versioned_bucket, run_engine
from tests.s3proxy import ProxyLog, s3_proxy
from tests.s3servers import moto_server

pytestmark = pytest.mark.integration

ALL = {"maxPurgeFraction": 1.0}
VANISHED = [f"gone/{i:02d}" for i in range(30)]


@pytest.fixture
def localstack_like(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's server behind a proxy that answers listings as LocalStack 2026.3 does."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    log = ProxyLog(unencoded=(b"KeyMarker", b"NextKeyMarker"))
    with moto_server() as upstream, s3_proxy(upstream, log=log) as (url, _):
        yield url


def test_a_u0001_key_among_30_vanished_keys_is_verified_by_range_and_purged(
    localstack_like: str, tmp_path: Path
) -> None:
    # Given 30 vanished keys and one holding U+0001, first in the target and with no
    # source key before it, on a store that echoes KeyMarker and NextKeyMarker raw
    setup = boto3.client("s3", endpoint_url=localstack_like, region_name="us-east-1")
    stem = f"ctl-{uuid.uuid4().hex[:8]}"
    pair = BucketPair(setup, f"{stem}-src", f"{stem}-dst")
    make_versioned_bucket(setup, pair.source)
    make_versioned_bucket(setup, pair.target)
    bad = "gone/\x01ctl"
    pair.put_live()
    for key in [bad, *VANISHED]:
        pair.put(key, "1", bucket=pair.target)
    client = make_s3_client(region="us-east-1", endpoint_url=localstack_like)

    result, lines = run_engine(pair, tmp_path, ALL, client=client, source_client=client)

    # Then no request asked for an answer the store can't give: all 31 verified, purged
    assert result.summary.status is RunStatus.SUCCEEDED, result.summary.error
    assert {line["key"]: line["outcome"] for line in lines} == dict.fromkeys(
        [bad, *VANISHED], "purged"
    )
    assert pair.all_keys() == {"live"}
    assert result.summary.requests.verify == 1  # one range listing answered them all
