"""moto made to page like S3 (`syncpurge_local.moto_s3`), checked against LocalStack.

Key-range work items start each listing at a KeyMarker alone, and verify-by-range jumps
to a vanished key's source predecessor the same way. The same requests go to LocalStack's
S3 (which answers as S3 does) and to moto's server with the shim; the answers, with each
server's own VersionIds replaced by the version's place in its key's history, must match.
moto without the shim is shown to differ, so the comparison is not vacuous.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.helpers import make_versioned_bucket
from tests.s3servers import moto_server

pytestmark = pytest.mark.conformance

# key -> what is written, oldest first ("v": a version, "m": a delete marker)
HISTORY = {
    "a": "vvv",
    "a/b": "v",
    "a/c": "vm",
    "a0": "vv",
    "b": "vmv",
    "b/x/1": "v",
    "b/y": "v",
    "c": "v",
}

REQUESTS: list[dict[str, Any]] = [
    {},
    {"KeyMarker": "a"},  # a key with three versions: S3 skips all of them
    {"KeyMarker": "a/"},  # names no key
    {"KeyMarker": "a00"},  # names no key, sorts inside another key's run
    {"KeyMarker": "b", "MaxKeys": 2},
    {"Prefix": "a", "KeyMarker": "a"},
    {"Prefix": "b/", "KeyMarker": "b/x"},
    {"KeyMarker": "c"},  # the last key: nothing after it
    {"KeyMarker": "a", "VersionIdMarker": ("a", 1)},  # inside a key's history
    {"MaxKeys": 3},
    {"Delimiter": "/"},
    {"Delimiter": "/", "KeyMarker": "a/"},  # a common prefix as the marker
    {"Prefix": "b/", "Delimiter": "/", "MaxKeys": 1},
]


def build(client: Any, bucket: str) -> None:
    make_versioned_bucket(client, bucket)
    for key, writes in HISTORY.items():
        for step in writes:
            if step == "v":
                client.put_object(Bucket=bucket, Key=key, Body=b"x")
            else:
                client.delete_object(Bucket=bucket, Key=key)


def version_ids(client: Any, bucket: str) -> dict[str, list[str]]:
    """Each key's VersionIds, versions (newest first) then markers (newest first), from an
    unmarked full listing. Versions and markers come in separate lists whose timestamps
    may tie, so a place is counted within its own kind."""
    ids: dict[str, list[str]] = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for kind in ("Versions", "DeleteMarkers"):
            for entry in page.get(kind) or []:
                ids.setdefault(entry["Key"], []).append(entry["VersionId"])
    return ids


def keys_of(page: Any) -> list[str]:
    return sorted(
        e["Key"] for e in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
    )


def answers(client: Any, bucket: str) -> list[dict[str, Any]]:
    ids = version_ids(client, bucket)

    def place(key: str, version_id: str | None) -> int | None:
        return ids[key].index(version_id) if version_id else None

    seen = []
    for request in REQUESTS:
        params = {"Bucket": bucket, **request}
        if "VersionIdMarker" in request:
            key, index = request["VersionIdMarker"]
            params["VersionIdMarker"] = ids[key][index]
        page = client.list_object_versions(**params)
        entries = [
            (e["Key"], e["VersionId"], e["IsLatest"], "v") for e in page.get("Versions") or []
        ]
        entries += [
            (e["Key"], e["VersionId"], e["IsLatest"], "m") for e in page.get("DeleteMarkers") or []
        ]
        truncated = bool(page.get("IsTruncated"))
        seen.append(
            {
                "request": request,
                "entries": sorted(
                    (key, place(key, vid), latest, kind) for key, vid, latest, kind in entries
                ),
                "prefixes": [p["Prefix"] for p in page.get("CommonPrefixes") or []],
                "truncated": truncated,
                "next": (
                    page.get("NextKeyMarker"),
                    place(page["NextKeyMarker"], page.get("NextVersionIdMarker"))
                    if page.get("NextKeyMarker") in ids
                    else None,
                )
                if truncated
                else None,
            }
        )
    return seen


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def answers_from(endpoint: str, bucket: str) -> list[dict[str, Any]]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    build(client, bucket)
    return answers(client, bucket)


@pytest.fixture
def moto_answers(credentials: None) -> Iterator[list[dict[str, Any]]]:
    with moto_server() as endpoint:
        yield answers_from(endpoint, "paging-moto")


def test_moto_with_the_shim_pages_as_localstack_does(
    localstack_endpoint: str, moto_answers: list[dict[str, Any]]
) -> None:
    # Given the same history on both; When the same listing requests are sent to each
    reference = answers_from(localstack_endpoint, "paging-localstack")
    # Then every answer matches, request by request
    for want, got in zip(reference, moto_answers, strict=True):
        assert got == want, want["request"]


def test_moto_without_the_shim_loses_a_version_after_a_marker_naming_no_key(
    credentials: None,
) -> None:
    with moto_server(like_s3=False) as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        build(client, "paging-plain")
        page = client.list_object_versions(Bucket="paging-plain", KeyMarker="a00")
    keys = sorted(
        e["Key"] for e in (page.get("Versions") or []) + (page.get("DeleteMarkers") or [])
    )
    # moto skipped one version past a marker that names no key: b's newest entry is lost
    assert keys.count("b") == 2
    with moto_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        build(client, "paging-shim")
        shimmed = client.list_object_versions(Bucket="paging-shim", KeyMarker="a00")
    shim_keys = keys_of(shimmed)
    assert shim_keys.count("b") == 3
