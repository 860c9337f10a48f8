"""The test proxy's fixed latency (tests/s3proxy.py `Latency`), which the parallel CLI
benchmark (tests/benchmarks/bench_cli_parallel.py) stands a far-away S3 Region in with: a
LIST page waits `list_seconds`, any other request `other_seconds`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.s3proxy import s3_proxy
from tests.s3requests import Latency, request_kind

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("credentials")]

LIST_SECONDS, OTHER_SECONDS = 0.2, 0.02


def timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_a_list_page_waits_list_seconds_and_a_head_other_seconds(endpoint: str) -> None:
    # Given a bucket with one object, behind a proxy with a fixed latency
    setup = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    setup.create_bucket(Bucket="latency")
    setup.put_object(Bucket="latency", Key="k", Body=b"1")
    latency = Latency(list_seconds=LIST_SECONDS, other_seconds=OTHER_SECONDS)
    with s3_proxy(endpoint, latency=latency) as (url, log):
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        client.head_object(Bucket="latency", Key="k")  # the connection opened untimed

        # When a LIST page and a HEAD are sent
        listed = timed(lambda: client.list_object_versions(Bucket="latency"))
        headed = timed(lambda: client.head_object(Bucket="latency", Key="k"))

    # Then the LIST waited at least list_seconds, the HEAD other_seconds but less than a LIST
    assert listed >= LIST_SECONDS
    assert OTHER_SECONDS <= headed < LIST_SECONDS
    assert log.kinds == {"list": 1, "other": 2}


def test_without_latency_the_proxy_does_not_wait(endpoint: str) -> None:
    setup = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    setup.create_bucket(Bucket="no-latency")
    with s3_proxy(endpoint) as (url, log):
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        client.list_object_versions(Bucket="no-latency")

        listed = timed(lambda: client.list_object_versions(Bucket="no-latency"))

    assert listed < LIST_SECONDS
    assert log.kinds == {"list": 2}


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/b?versions&max-keys=1000", "list"),
        ("GET", "/b?list-type=2", "list"),
        ("GET", "/b", "list"),
        ("GET", "/b/", "list"),
        ("GET", "/b?prefix=a%2F&marker=a%2F1&max-keys=1000", "list"),
        ("GET", "/b?versioning", "other"),  # a bucket's configuration, not a listing
        ("GET", "/b?object-lock", "other"),
        ("GET", "/b/k", "other"),
        ("HEAD", "/b/k?versionId=1", "other"),
        ("HEAD", "/b", "other"),
        ("POST", "/b?delete", "other"),
        ("GET", "/", "other"),  # ListBuckets: no bucket
    ],
)
def test_what_counts_as_a_list_page(method: str, path: str, kind: str) -> None:
    assert request_kind(method, path) == kind
