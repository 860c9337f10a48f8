"""Defect 13: one key the source can't be listed about blocks nothing else.

LocalStack 2026.3 answers `EncodingType=url` listings with Key and Prefix URL-encoded but
KeyMarker and NextKeyMarker raw: a U+0001 in either makes its XML unparsable, which botocore
takes for a 500 and retries to exhaustion. `tests.s3proxy` answers so in front of moto's
server (`ProxyLog.unencoded`). And any store may fail every listing that would answer about
one key: `fail_listings_covering` answers those 500 InternalError, after botocore's retries.
Such a key is reported (skipped, naming the call and the error), never purged unverified;
the others go on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto.core.botocore_stubber import MockRawResponse

from syncpurge.data.clients import make_s3_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.models import Entry, Outcome, PlannedEntry, Proof, ReconcileRequest, Rule, RunStatus
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings
from syncpurge.phases.purge import purge_plan
from syncpurge.phases.report import read_entries_lines
from tests.engine_runs import applying_request, engine_policy, engine_run, run_engine
from tests.helpers import BucketPair, make_versioned_bucket
from tests.s3proxy import ProxyLog, error_body, s3_proxy
from tests.s3servers import moto_server

pytestmark = pytest.mark.integration

ALL = {"maxPurgeFraction": 1.0}
VANISHED = [f"gone/{i:02d}" for i in range(30)]
FEW_RETRIES = Config(retries={"mode": "standard", "max_attempts": 3})


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


def fail_listings_covering(client: Any, bucket: str, key: str) -> list[tuple[str, str | None]]:
    """Every ListObjectVersions of `bucket` asking for a range that holds `key` (a Prefix of
    it, or a KeyMarker before it) is answered 500 InternalError, at each of botocore's
    attempts; a listing of the whole bucket from its start (the diff's) is answered.
    Returns (Prefix, KeyMarker) of each attempt so answered."""
    failed: list[tuple[str, str | None]] = []

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        url = urlsplit(request.url)
        if bucket not in (url.netloc.split(".")[0], url.path.split("/")[1]):
            return None
        query = parse_qs(url.query, keep_blank_values=True)
        prefix = query.get("prefix", [""])[0]
        marker = query.get("key-marker", [None])[0]
        ranged = bool(prefix) or marker is not None
        if not ranged or not key.startswith(prefix) or (marker is not None and marker >= key):
            return None
        failed.append((prefix, marker))
        body = error_body("internal")
        return AWSResponse(request.url, 500, {}, MockRawResponse(body))

    client.meta.events.register_first("before-send.s3.ListObjectVersions", answer)
    return failed


def gone_with_markers(pair: BucketPair) -> None:
    """VANISHED in the target as DataSync's REMOVE leaves them: a version, then a marker."""
    pair.put_live()
    for key in VANISHED:
        pair.put(key, "1", bucket=pair.target)
        pair.soft_delete(key, bucket=pair.target)


def by_key(lines: list[dict[str, Any]], key: str) -> dict[bool, tuple[str, str, str]]:
    """A key's report lines: is delete marker -> (outcome, reason, error)."""
    return {
        line["isDeleteMarker"]: (line["outcome"], line["reason"], line["error"] or "")
        for line in lines
        if line["key"] == key
    }


def test_a_key_the_source_cant_be_listed_about_is_skipped_and_the_rest_purged(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given 30 vanished keys, and a source that fails every listing covering gone/17
    gone_with_markers(pair)
    client = boto3.client("s3", region_name="us-east-1", config=FEW_RETRIES)
    failed = fail_listings_covering(client, pair.source, "gone/17")
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path, ALL, client=client, source_client=client)

    # Then gone/17 is kept, reported with the call and the error; the other 29 go
    assert result.summary.status is RunStatus.SUCCEEDED, result.summary.error
    version, marker = by_key(lines, "gone/17")[False], by_key(lines, "gone/17")[True]
    assert version[:2] == ("skipped", "unverifiable")
    assert "ListObjectVersions" in version[2]
    assert "Prefix='gone/17'" in version[2]
    assert "InternalError" in version[2]
    assert marker[:2] == ("skipped", "protects-current")
    assert {e for e in before if e[0] == "gone/17"} <= pair.entries()
    assert pair.all_keys() == {"live", "gone/17"}
    assert result.summary.totals.purged == 2 * 29
    # The range listing failed once (each attempt), then gone/17's own listing
    assert {prefix for prefix, _ in failed} == {"gone/", "gone/17"}


def test_an_applied_plan_skips_a_key_it_cant_list_again_and_applies_the_rest(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given a dry run's plan of 30 vanished keys, applied while the source fails every
    # listing covering gone/17 (its fresh one-key listing among them)
    gone_with_markers(pair)
    dry, _ = run_engine(pair, tmp_path, {**ALL, "dryRun": True})
    assert dry.summary.totals.planned == 2 * 30
    client = boto3.client("s3", region_name="us-east-1", config=FEW_RETRIES)
    fail_listings_covering(client, pair.source, "gone/17")
    source = S3Store(client, RequestCounter())
    request = ReconcileRequest.model_validate(ALL)
    applying = applying_request(request, tmp_path, dry.summary.run_id, source)

    applied = engine_run(
        engine_policy(pair.source, pair.target, applying),
        source=source,
        target=S3Store(client, source.counter),
        report=tmp_path,
    )

    # Then gone/17's entries are skipped naming the listing that failed; the rest go
    assert applied.summary.status is RunStatus.SUCCEEDED, applied.summary.error
    lines = list(read_entries_lines(tmp_path / applied.summary.run_id))
    for outcome, reason, error in by_key(lines, "gone/17").values():
        assert (outcome, reason) == ("skipped", "unverifiable")
        assert "ListObjectVersions" in error
        assert "InternalError" in error
    assert pair.all_keys() == {"live", "gone/17"}
    assert applied.summary.totals.purged == 2 * 29


def test_a_held_current_entry_stays_when_its_key_cant_be_listed(pair: BucketPair) -> None:
    # Given a key whose plan holds two of its three entries (the third in another chunk):
    # its current entry goes only if a listing shows it is all that is left of the key
    ids = [pair.put("long", str(i), bucket=pair.target) for i in range(3)]
    listed = pair.client.list_object_versions(Bucket=pair.target)["Versions"]
    when = {v["VersionId"]: v["LastModified"] for v in listed}

    def planned(version_id: str, latest: bool) -> PlannedEntry:
        entry = Entry("long", version_id, latest, when[version_id], False, 1, '"x"')
        return PlannedEntry(
            entry, Rule.ORPHAN_VERSION, "orphan", proof=Proof.LINEAGE, key_entries=3
        )

    client = boto3.client("s3", region_name="us-east-1", config=FEW_RETRIES)
    fail_listings_covering(client, pair.target, "long")
    outcomes: list[OutcomeRecord] = []

    purge_plan(
        [planned(ids[0], False), planned(ids[2], True)],
        source=S3Store(client),
        target=S3Store(client),
        settings=PurgeSettings(target_bucket=pair.target, source_bucket=pair.source),
        on_outcome=outcomes.append,
    )

    # Then the current entry stays, reported with the listing that failed
    by_version = {o.planned.entry.version_id: o for o in outcomes}
    assert by_version[ids[0]].outcome is Outcome.PURGED
    current = by_version[ids[2]]
    assert (current.outcome, current.reason) == (Outcome.SKIPPED, "unverifiable")
    assert "ListObjectVersions" in (current.error or "")
    assert "InternalError" in (current.error or "")
    assert {v for _, v, _ in pair.entries()} == {ids[1], ids[2]}
