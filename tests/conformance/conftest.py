"""The conformance tier: the same scenarios, the same assertions, against two independent
S3 implementations over HTTP — moto's server and LocalStack's S3 provider (docs/design.md §11).

moto sits behind `tests.s3proxy` so that `EncodingType=url` listings are answered as S3
answers them (moto ignores the parameter); LocalStack is spoken to directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.helpers import BucketPair, make_versioned_bucket
from tests.s3proxy import s3_proxy
from tests.s3servers import localstack_python, localstack_server, moto_server


@pytest.fixture(scope="session")
def localstack_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    python = localstack_python()
    if isinstance(python, str):
        pytest.skip(f"LocalStack tier skipped: {python}")
    log = tmp_path_factory.mktemp("localstack") / "localstack.log"
    with localstack_server(python, log) as endpoint:
        yield endpoint


@pytest.fixture(params=["moto", "localstack"])
def endpoint(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    if request.param == "localstack":
        yield request.getfixturevalue("localstack_endpoint")
        return
    with moto_server() as upstream, s3_proxy(upstream) as (url, _):
        yield url


@pytest.fixture
def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def new_pair(client: object, *, target_lock: bool = False) -> BucketPair:
    stem = f"sp-{uuid.uuid4().hex[:12]}"
    pair = BucketPair(client=client, source=f"{stem}-src", target=f"{stem}-dst")
    make_versioned_bucket(client, pair.source)
    make_versioned_bucket(client, pair.target, object_lock=target_lock)
    return pair


@pytest.fixture
def pair(s3_client: object) -> BucketPair:
    return new_pair(s3_client)


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    return tmp_path / "report"
