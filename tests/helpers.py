"""Helpers to build bucket histories on moto and to drive the CLI against them (runs of
the CLI's driver itself: tests/engine_runs.py)."""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from syncpurge.cli import main
from syncpurge_local.datasync_copy import copy_like_datasync
from tests.s3proxy import error_body, signed_region


@dataclass
class BucketPair:
    client: Any
    source: str
    target: str

    def put(self, key: str, body: bytes | str = b"x", bucket: str | None = None) -> str:
        data = body.encode() if isinstance(body, str) else body
        response = self.client.put_object(Bucket=bucket or self.source, Key=key, Body=data)
        return str(response["VersionId"])

    def put_live(self) -> None:
        """A key both sides hold, so the source is not refused as unrelated."""
        self.put("live", "x")
        self.put("live", "x", bucket=self.target)

    def soft_delete(self, key: str, bucket: str | None = None) -> None:
        self.client.delete_object(Bucket=bucket or self.source, Key=key)

    def delete_version(self, key: str, version_id: str, bucket: str | None = None) -> None:
        self.client.delete_object(Bucket=bucket or self.source, Key=key, VersionId=version_id)

    def sync(self, **kwargs: Any) -> None:
        # Folder objects only where a test asks for them: most assert exact key sets.
        kwargs.setdefault("folder_objects", False)
        copy_like_datasync(self.client, self.source, self.target, **kwargs)

    def entries(self, bucket: str | None = None, prefix: str = "") -> set[tuple[str, str, bool]]:
        """(key, VersionId, is_delete_marker) of every entry."""
        found: set[tuple[str, str, bool]] = set()
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket or self.target, Prefix=prefix):
            found.update((v["Key"], v["VersionId"], False) for v in page.get("Versions", []))
            found.update((m["Key"], m["VersionId"], True) for m in page.get("DeleteMarkers", []))
        return found

    def all_keys(self, bucket: str | None = None) -> set[str]:
        return {key for key, _, _ in self.entries(bucket)}

    def purge_source_key(self, key: str) -> None:
        """A permanent delete: every version and marker of `key` in the source."""
        for k, version_id, _ in self.entries(self.source, prefix=key):
            if k == key:
                self.delete_version(key, version_id)

    def share_null_version(self, key: str) -> None:
        """`key` written on both sides while versioning is suspended: version `null` is the
        one VersionId both share, as S3 Replication's copies share theirs."""
        for bucket in (self.source, self.target):
            self.client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Suspended"}
            )
            self.client.put_object(Bucket=bucket, Key=key, Body=b"one")
            self.client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )

    def synced_marker(self, key: str) -> tuple[str, str]:
        """`key` written, soft-deleted and written again, each state synced: (the source's
        delete marker, its copy at the target), by VersionId."""
        self.put(key, "one")
        self.sync()
        self.soft_delete(key)
        self.sync()
        self.put(key, "two")
        self.sync()
        source = self.client.list_object_versions(Bucket=self.source, Prefix=key)
        target = self.client.list_object_versions(Bucket=self.target, Prefix=key)
        return source["DeleteMarkers"][0]["VersionId"], target["DeleteMarkers"][0]["VersionId"]

    def seed_case_2(self) -> None:
        """The seed's Case 2: a.txt synced, soft-deleted and synced, then its version and
        marker permanently deleted in the source; a.txt.bak stays live. The target keeps
        a.txt's marker and noncurrent version."""
        self.put("a.txt", "hello")
        self.put("a.txt.bak", "backup")
        self.sync()
        self.soft_delete("a.txt")
        self.sync()
        self.purge_source_key("a.txt")


def next_second() -> None:
    """Sleep into the next wall-clock second.

    Task reports record a source object's LastModified to the second (DataSync user guide,
    task reports), so two writes of the same bytes within one second are the same origin to
    lineage. A test that needs them told apart writes the second one after this.
    """
    time.sleep(1.001 - time.time() % 1)


class MotoClock:
    """moto's clock for S3 writes (patch `moto.s3.models.utcnow` with it): a millisecond
    later at each reading, and `next_second` moves it to the start of the next second.

    Task-report records name a source version to the second, so a history decides which of
    its writes share a second, without sleeping, and replays the same. It starts in the
    past: a run never takes its writes for ones still landing (grace).
    """

    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1)  # naive UTC, as moto keeps it

    def next_second(self) -> None:
        self.now = self.now.replace(microsecond=0) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@functools.cache
def _moto_session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


def moto_s3_client() -> Any:
    """An S3 client for a property's example on a fresh moto, from one session kept for
    the whole test run.

    mock_aws drops boto3's default session each time it starts, so `boto3.client` parses
    botocore's service models anew: ~150 ms an example, a third of a moto-backed property's
    cost. A kept session parses them once; moto's stubber serves every client alike.
    """
    return _moto_session().client("s3")


def make_versioned_bucket(
    client: Any, name: str, *, object_lock: bool = False, region: str | None = None
) -> None:
    """A bucket with versioning Enabled (in `region`, else the client's default)."""
    extra: dict[str, Any] = {"ObjectLockEnabledForBucket": True} if object_lock else {}
    if region is not None and region != "us-east-1":
        extra["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(Bucket=name, **extra)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def versioned_pair(
    client: Any, source: str, target: str, *, reports: str = "", target_lock: bool = False
) -> BucketPair:
    """Two versioned buckets (and an unversioned report bucket, if named) on `client`; the
    target with Object Lock if asked."""
    pair = BucketPair(client, source, target)
    make_versioned_bucket(client, source)
    make_versioned_bucket(client, target, object_lock=target_lock)
    if reports:
        client.create_bucket(Bucket=reports)
    return pair


@contextmanager
def kms_etags() -> Iterator[None]:
    """Make moto give SSE-KMS objects the ETags S3 gives them: not an MD5 of the content.

    S3 API reference, Common Response Headers / ETag: "Objects created by the PUT Object,
    POST Object, or Copy operation, or through the AWS Management Console, and are encrypted
    by SSE-C or SSE-KMS, have ETags that are not an MD5 digest of their object data." moto
    returns the MD5 for every object, which would hide every KMS bug; here a KMS object's
    ETag is a digest of its VersionId instead, as opaque as S3's.
    """
    from moto.s3.models import FakeKey

    plain = FakeKey.etag

    def etag(self: Any) -> str:
        if self.encryption in ("aws:kms", "aws:kms:dsse"):
            return '"' + hashlib.sha256(str(self.version_id).encode()).hexdigest()[:32] + '"'
        return str(plain.fget(self))  # type: ignore[attr-defined]

    with mock.patch.object(FakeKey, "etag", property(etag)):
        yield


ACCESS_DENIED = error_body("wrong-owner")


@contextmanager
def bucket_owners_checked(owners: dict[str, str]) -> Iterator[list[tuple[str, str | None]]]:
    """moto answers a request whose ExpectedBucketOwner is not the bucket's owner as S3
    does, 403 AccessDenied (S3 user guide, "Verifying bucket ownership with bucket owner
    condition"); moto itself ignores the header. `owners` says who owns which bucket;
    yields the (bucket, expected owner or None) of every request on one of them."""
    seen: list[tuple[str, str | None]] = []

    def check(bucket: str, request: Any) -> Any:
        expected = request.headers.get("x-amz-expected-bucket-owner")
        if bucket in owners:
            seen.append((bucket, expected))
            if expected is not None and expected != owners[bucket]:
                return 403, {"Content-Type": "application/xml"}, ACCESS_DENIED
        return None

    with moto_s3_answering(check):
        yield seen


@contextmanager
def bucket_regions_checked(
    regions: dict[str, str],
) -> Iterator[list[tuple[str, str, str | None]]]:
    """moto answers a request on a bucket signed for another Region as S3 does, 301
    PermanentRedirect with the bucket's Region in x-amz-bucket-region (S3 API reference,
    "Error responses" and HeadBucket); moto itself answers in any Region. Yields the
    (method, bucket, signed Region) of every request on one of `regions`' buckets that
    was answered so."""
    redirected: list[tuple[str, str, str | None]] = []

    def check(bucket: str, request: Any) -> Any:
        signed = signed_region(request.headers.get("Authorization"))
        if bucket in regions and signed is not None and signed != regions[bucket]:
            redirected.append((request.method, bucket, signed))
            headers = {"Content-Type": "application/xml", "x-amz-bucket-region": regions[bucket]}
            return 301, headers, b"" if request.method == "HEAD" else error_body("wrong-region")
        return None

    with moto_s3_answering(check):
        yield redirected


@contextmanager
def moto_s3_answering(check: Callable[[str, Any], Any]) -> Iterator[None]:
    """moto's S3 answers with `check(bucket, request)` where it says something (not None)."""
    from moto.s3.responses import S3Response

    def checked(original: Any) -> Any:
        def answer(self: Any, request: Any, full_url: str, headers: Any) -> Any:
            self.setup_class(request)  # what the original does first; it reads the host
            bucket = self.parse_bucket_name_from_url(request, full_url)
            return check(bucket, request) or original(self, request, full_url, headers)

        return answer

    with (
        mock.patch.object(S3Response, "bucket_response", checked(S3Response.bucket_response)),
        mock.patch.object(S3Response, "key_response", checked(S3Response.key_response)),
    ):
        yield


def exit_code(argv: list[str]) -> int:
    """`syncpurge` with these arguments: main's exit code, or argparse's when it refuses a
    flag itself (it exits with the same code 2 as the CLI's own refusals)."""
    try:
        return main(argv)
    except SystemExit as exited:
        return int(exited.code or 0)


def reconcile_flags(pair: BucketPair, *extra: str) -> list[str]:
    """`syncpurge reconcile` on the pair, in moto's region, with `extra` flags."""
    return [
        "reconcile",
        "--source-bucket",
        pair.source,
        "--target-bucket",
        pair.target,
        "--region",
        "us-east-1",
        *extra,
    ]


def read_run_report(
    s3: Any, bucket: str, run_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """summary.json and every entries line of run `run_id`'s report in `bucket`."""
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
        if "/Purge-Reports/" in f"/{o['Key']}" and f"/{run_id}/" in o["Key"]
    ]
    summary_key = next(k for k in keys if k.endswith("/summary.json"))
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
    lines = [
        json.loads(line)
        for key in sorted(k for k in keys if "/entries-" in k)
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    ]
    return summary, lines


def age_entries(*buckets: str, minutes: int) -> None:
    """Every version and delete marker in `buckets` written `minutes` earlier: time passing,
    which moto can't be told (a replication-mode purge waits out 15 minutes of grace)."""
    from datetime import timedelta

    from moto.s3.models import s3_backends

    from syncpurge_local.datasync_copy import ACCOUNT

    backend = s3_backends[ACCOUNT]["aws"]
    for name in buckets:
        for _, versions in backend.buckets[name].keys.iterlists():
            for version in versions:
                version.last_modified -= timedelta(minutes=minutes)


def run_folders(report: Path) -> list[Path]:
    """A local report root's run folders (its runs' workspaces lie beside them, apart)."""
    if not report.exists():
        return []
    return sorted(p for p in report.iterdir() if p.is_dir() and p.name != "syncpurge-work")
