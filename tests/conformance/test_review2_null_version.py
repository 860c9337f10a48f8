"""The event path's hold per entry against the 'null' VersionId (issue 28 review, second
round): a bucket whose versioning is Suspended for a moment overwrites its 'null' version
in place (or turns it into a 'null' delete marker), so a source's VersionIds can stay the
same while the content under them is erased and replaced. The hold is kept per target
entry that the rules would purge, not by the source's VersionIds, so the copy of the
replaced content still waits out its own hold.

LocalStack only: moto drops every other version of the key on a Suspended PUT, which real
S3 does not (S3 user guide, "Adding objects to versioning-suspended buckets": the PUT
overwrites the null version only); LocalStack's S3 provider behaves as S3 documents.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from syncpurge.data.s3store import S3Store
from syncpurge.events.consumer import EventPathConfig, QueuedEvent, consume
from syncpurge.workflow.context import Stores
from tests.helpers import BucketPair, make_versioned_bucket

HOUR = timedelta(minutes=60)


@pytest.fixture
def ls_client(localstack_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.client("s3", endpoint_url=localstack_endpoint, region_name="us-east-1")


def _versioning(pair: BucketPair, status: str) -> None:
    pair.client.put_bucket_versioning(
        Bucket=pair.source, VersioningConfiguration={"Status": status}
    )


def _event(pair: BucketPair, key: str, version_id: str, at: datetime) -> str:
    return json.dumps({
        "version": "0", "id": f"id-{key}-{version_id}-{at.timestamp()}",
        "detail-type": "Object Deleted", "source": "aws.s3",
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": {
            "bucket": {"name": pair.source},
            "object": {"key": key, "version-id": version_id, "sequencer": "0A"},
            "deletion-type": "Permanently Deleted", "reason": "DeleteObject",
        },
    })  # fmt: skip


def _deliver(pair: BucketPair, reports: str, bodies: list[str], now: datetime, sent: datetime):
    config = EventPathConfig(
        source_bucket=pair.source, target_bucket=pair.target, report_bucket=reports
    )
    messages = [QueuedEvent(f"m{i}", b, sent_at=sent) for i, b in enumerate(bodies)]
    return consume(messages, config=config, stores=Stores(S3Store(pair.client)), now=now)


def _setup(client: object) -> tuple[BucketPair, str, str, str, str]:
    """a.txt: a 'null' version (written before versioning, as most old buckets hold), then
    v0 and v2, each synced. Returns the pair, reports bucket, v0, the copy of the null
    version at the target, and v2."""
    stem = f"sp-{uuid.uuid4().hex[:12]}"
    pair = BucketPair(client=client, source=f"{stem}-src", target=f"{stem}-dst")
    make_versioned_bucket(client, pair.source)
    make_versioned_bucket(client, pair.target)
    reports = f"{stem}-rep"
    client.create_bucket(Bucket=reports)  # type: ignore[attr-defined]
    pair.put_live()
    _versioning(pair, "Suspended")
    pair.client.put_object(Bucket=pair.source, Key="a.txt", Body=b"old null content, 31 bytes long")
    _versioning(pair, "Enabled")
    pair.sync()
    copy_of_null = pair.client.list_object_versions(Bucket=pair.target, Prefix="a.txt")["Versions"][
        0
    ]["VersionId"]
    v0 = pair.put("a.txt", "zero")
    pair.sync()
    v2 = pair.put("a.txt", "two!!")
    pair.sync()
    return pair, reports, v0, copy_of_null, v2


@pytest.mark.parametrize("how", ["delete-null-then-suspended-put", "suspended-put-overwrites"])
def test_null_version_replaced_between_observations_keeps_the_digest_and_skips_the_hold(
    ls_client: object, how: str
) -> None:
    pair, reports, v0, copy_of_null, v2 = _setup(ls_client)
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    # T0: v0 erased; its event is delivered and held an hour (first sight of a.txt)
    pair.delete_version("a.txt", v0)
    e0 = _event(pair, "a.txt", v0, t0)
    assert _deliver(pair, reports, [e0], t0, t0).return_after == {"m0": 3600}

    # T0+59m: the null version's content is erased and replaced; the VersionId set
    # {v2, 'null'} is what it was at T0. Versioning is Enabled again a second later.
    if how == "delete-null-then-suspended-put":
        pair.delete_version("a.txt", "null")  # "Permanently Deleted", its event in flight
    _versioning(pair, "Suspended")
    pair.client.put_object(Bucket=pair.source, Key="a.txt", Body=b"new")  # VersionId 'null'
    _versioning(pair, "Enabled")
    ids = {
        v["VersionId"]
        for v in pair.client.list_object_versions(Bucket=pair.source, Prefix="a.txt")["Versions"]
    }
    assert ids == {v2, "null"}  # same ids as at T0: the digest can't tell

    # T0+60m: e0 comes back; versioning is Enabled, so check_pair passes
    due = _deliver(pair, reports, [e0], t0 + HOUR, t0)
    gone = {r.planned.entry.version_id for r in due.result.records if r.outcome.value == "purged"}
    # The old null content's copy must wait an hour after its erasure; it went a minute after
    assert copy_of_null not in gone, f"copy of the erased null version purged with no hold: {gone}"


def test_null_version_turned_into_a_null_marker_keeps_the_digest(ls_client: object) -> None:
    """A Suspended DeleteObject (no VersionId) replaces the null version by a null delete
    marker: same VersionId set, the content gone; the digest has no kind in it."""
    pair, reports, v0, copy_of_null, v2 = _setup(ls_client)
    # make the null version noncurrent-free of v2's shadow: its copy is noncurrent already
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    pair.delete_version("a.txt", v0)
    e0 = _event(pair, "a.txt", v0, t0)
    assert _deliver(pair, reports, [e0], t0, t0).return_after == {"m0": 3600}

    _versioning(pair, "Suspended")
    pair.soft_delete("a.txt")  # null version -> null delete marker (no Permanently Deleted)
    _versioning(pair, "Enabled")
    listing = pair.client.list_object_versions(Bucket=pair.source, Prefix="a.txt")
    ids = {v["VersionId"] for v in listing.get("Versions", [])} | {
        m["VersionId"] for m in listing.get("DeleteMarkers", [])
    }
    assert ids == {v2, "null"}

    due = _deliver(pair, reports, [e0], t0 + HOUR, t0)
    gone = {r.planned.entry.version_id for r in due.result.records if r.outcome.value == "purged"}
    assert copy_of_null not in gone, f"copy of the erased null version purged with no hold: {gone}"


def test_control_nothing_changes_in_the_window(ls_client: object) -> None:
    """Control: with no change at T0+59m the path is live (v0's copy goes) and the null
    version's copy stays: the failures above are the digest's blind spot, not the harness."""
    pair, reports, v0, copy_of_null, _v2 = _setup(ls_client)
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    pair.delete_version("a.txt", v0)
    e0 = _event(pair, "a.txt", v0, t0)
    assert _deliver(pair, reports, [e0], t0, t0).return_after == {"m0": 3600}
    due = _deliver(pair, reports, [e0], t0 + HOUR, t0)
    gone = {r.planned.entry.version_id for r in due.result.records if r.outcome.value == "purged"}
    assert len(gone) == 1
    assert copy_of_null not in gone
