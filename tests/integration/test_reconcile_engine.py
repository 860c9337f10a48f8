"""The engine against moto S3: scale, exact keys, safety, outcomes (issue 2 acceptance)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from syncpurge.models import RunStatus
from tests.engine_runs import run_engine
from tests.helpers import BucketPair, kms_etags, make_versioned_bucket

pytestmark = pytest.mark.integration

# Most scenarios here hold only leftovers in the target; a source with nothing in common is
# refused unless allowed (docs/design.md §5 "Unrelated source"), which has its own tests.
ALL = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}


def test_a_key_with_1500_versions_crosses_pages_and_keeps_what_the_source_holds(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given one key with 1,500 target versions: 1,000 whose content one of the source's 5
    # versions still holds, and 500 whose content the source permanently deleted
    kept_bodies = [f"kept-{i}" for i in range(5)]
    for body in kept_bodies:
        pair.put("hot.log", body)
    for i in range(1500):
        body = f"gone-{i}" if i % 3 == 2 else kept_bodies[i % 5]
        pair.put("hot.log", body, bucket=pair.target)
    pair.put("hot.log", kept_bodies[-1], bucket=pair.target)  # current mirrors the source

    result, lines = run_engine(pair, tmp_path, ALL)

    assert result.summary.totals.target_entries == 1501
    assert result.summary.totals.source_entries == 5
    assert result.summary.totals.purged == 500
    assert {line["rule"] for line in lines} == {"orphan-version"}
    assert all(line["key"] == "hot.log" for line in lines)
    remaining = pair.entries()
    assert len(remaining) == 1001
    assert result.summary.requests.list == 3  # 1 page of source + 2 of target


def test_3000_vanished_keys_go_in_full_batches_with_few_verify_lists(
    pair: BucketPair, tmp_path: Path
) -> None:
    for i in range(3000):
        pair.put(f"gone/{i:05d}", "x", bucket=pair.target)
    pair.put_live()

    result, _ = run_engine(pair, tmp_path, ALL)

    assert result.summary.status is RunStatus.SUCCEEDED
    assert result.summary.totals.purged == 3000
    assert pair.all_keys() == {"live"}
    assert result.summary.requests.delete == 3
    # clustered keys: one verify LIST answers for a whole batch
    assert result.summary.requests.verify <= 3


SPECIAL_KEYS = [
    "with space.txt",
    "plus+sign",
    "per%20cent",
    "100%",
    "ünïcødé/ключ/鍵",
    "k" * 1024,
    "a.txt",
    "a.txt.bak",
    "trailing ",
    " leading",
]


def test_special_keys_are_matched_exactly(pair: BucketPair, tmp_path: Path) -> None:
    # Given every special key live in both, and a vanished twin of each in the target
    for key in SPECIAL_KEYS:
        pair.put(key, "live")
    pair.sync()
    vanished = {k[:-1] + "~" if len(k.encode()) >= 1024 else k + "~" for k in SPECIAL_KEYS}
    for key in vanished:
        pair.put(key, "orphan", bucket=pair.target)

    result, lines = run_engine(pair, tmp_path, ALL)

    assert {line["key"] for line in lines} == vanished
    assert pair.all_keys() == set(SPECIAL_KEYS)
    assert pair.all_keys(pair.source) == set(SPECIAL_KEYS)
    assert result.summary.totals.purged == len(vanished)


def test_soft_deleted_key_is_left_alone(pair: BucketPair, tmp_path: Path) -> None:
    pair.put("b.txt", "data")
    pair.sync()
    pair.soft_delete("b.txt")
    pair.sync()
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path, ALL)

    assert lines == []
    assert pair.entries() == before
    assert result.summary.totals.planned == 0


def test_object_locked_version_is_retained_not_failed(s3: Any, tmp_path: Path) -> None:
    pair = BucketPair(s3, "locked-src", "locked-dst")
    make_versioned_bucket(s3, pair.source)
    make_versioned_bucket(s3, pair.target, object_lock=True)
    s3.put_object(Bucket=pair.target, Key="held", Body=b"1", ObjectLockLegalHoldStatus="ON")
    s3.put_object(
        Bucket=pair.target,
        Key="gov",
        Body=b"1",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
    )
    s3.put_object(Bucket=pair.target, Key="free", Body=b"1")

    result, lines = run_engine(pair, tmp_path, ALL)

    outcomes = {line["key"]: line["outcome"] for line in lines}
    assert outcomes == {"held": "retained", "gov": "retained", "free": "purged"}
    assert result.summary.status is RunStatus.SUCCEEDED
    assert any("Object Lock" in a for a in result.summary.advisories)
    assert "object lock" in next(line["error"] for line in lines if line["key"] == "held")

    # And with bypassGovernance the governance-mode version goes, the legal hold stays
    result, lines = run_engine(pair, tmp_path / "again", {**ALL, "bypassGovernance": True})
    assert {line["key"]: line["outcome"] for line in lines} == {"held": "retained", "gov": "purged"}


def test_dry_run_plans_and_reports_but_deletes_nothing(pair: BucketPair, tmp_path: Path) -> None:
    pair.put("gone", "x", bucket=pair.target)
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path, {**ALL, "dryRun": True})

    assert result.summary.status is RunStatus.DRY_RUN
    assert [(line["key"], line["outcome"]) for line in lines] == [("gone", "planned")]
    assert pair.entries() == before
    assert result.summary.requests.delete == 0


def test_guard_trips_and_deletes_nothing_unless_forced(pair: BucketPair, tmp_path: Path) -> None:
    for i in range(10):
        pair.put(f"k{i}", "x", bucket=pair.target)
    pair.put("k0", "x")
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path / "guarded")

    assert result.summary.status is RunStatus.GUARD_TRIPPED
    assert result.summary.guard is not None
    assert result.summary.guard.tripped
    assert len(lines) == 9
    assert {line["outcome"] for line in lines} == {"planned"}
    assert pair.entries() == before

    result, _ = run_engine(pair, tmp_path / "forced", {"force": True})
    assert result.summary.status is RunStatus.SUCCEEDED
    assert result.summary.guard is not None
    assert result.summary.guard.forced
    assert pair.all_keys() == {"k0"}


def test_grace_skips_recent_entries(pair: BucketPair, tmp_path: Path) -> None:
    pair.put("fresh", "x", bucket=pair.target)

    _result, lines = run_engine(pair, tmp_path, {**ALL, "graceMinutes": 60})

    assert [(line["outcome"], line["reason"]) for line in lines] == [("skipped", "grace")]
    assert pair.all_keys() == {"fresh"}


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("same", "same bucket"),
        ("missing", "does not exist"),
        ("unversioned", "versioning Disabled"),
        ("suspended", "versioning Suspended"),
    ],
)
def test_preflight_refuses_unsafe_pairs_and_deletes_nothing(
    pair: BucketPair, tmp_path: Path, setup: str, message: str
) -> None:
    pair.put("gone", "x", bucket=pair.target)
    if setup == "same":
        pair = BucketPair(pair.client, pair.target, pair.target)
    elif setup == "missing":
        pair = BucketPair(pair.client, "no-such-bucket-here", pair.target)
    elif setup == "unversioned":
        pair.client.create_bucket(Bucket="plain-bucket")
        pair = BucketPair(pair.client, "plain-bucket", pair.target)
    else:
        pair.client.put_bucket_versioning(
            Bucket=pair.source, VersioningConfiguration={"Status": "Suspended"}
        )
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path, ALL)

    assert result.refusal is not None
    assert message in result.refusal
    assert result.summary.status is RunStatus.FAILED
    assert lines == []
    assert pair.entries() == before


def test_replication_mode_on_a_datasync_copy_purges_no_entry_it_cannot_prove_a_replica(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Defect 3: the old bucket-wide check passed if any key shared an id; the rule is per key.
    pair.put("k", "x")
    pair.sync()  # DataSync-style copy: new VersionIds, never a REPLICA
    pair.put("k", "target-written", bucket=pair.target)
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path, {**ALL, "mode": "replication", "graceMinutes": 0})

    assert result.summary.totals.purged == 0
    assert {line["reason"] for line in lines} == {"not-a-replica"}
    assert pair.entries() == before


def test_lifecycle_rules_on_the_target_are_reported_as_advisories(
    pair: BucketPair, tmp_path: Path
) -> None:
    pair.client.put_bucket_lifecycle_configuration(
        Bucket=pair.target,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-old",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )

    result, _ = run_engine(pair, tmp_path, ALL)

    assert any("expire-old" in advisory for advisory in result.summary.advisories)


def test_prefix_scope_touches_only_that_prefix(pair: BucketPair, tmp_path: Path) -> None:
    pair.put("logs/old", "x", bucket=pair.target)
    pair.put("img/old", "x", bucket=pair.target)

    result, lines = run_engine(pair, tmp_path, {**ALL, "prefixes": ["logs/"]})

    assert [line["key"] for line in lines] == ["logs/old"]
    assert pair.all_keys() == {"img/old"}
    assert result.summary.prefixes == ["logs/"]


def test_a_kms_copy_of_a_version_the_source_holds_is_kept(pair: BucketPair, tmp_path: Path) -> None:
    # Defect 1: the target's copy is SSE-KMS (per object), so its ETag is not the MD5 the
    # source lists; today's rule read the mismatch as a content difference and purged it.
    with kms_etags():
        pair.put("k", "abcd")  # v1, still in the source
        pair.put("k", "wxyz")  # v2, current
        pair.client.put_object(
            Bucket=pair.target, Key="k", Body=b"abcd", ServerSideEncryption="aws:kms"
        )
        pair.client.put_object(
            Bucket=pair.target, Key="k", Body=b"wxyz", ServerSideEncryption="aws:kms"
        )
        listed = pair.client.list_object_versions(Bucket=pair.target)["Versions"]
        assert all(v["ETag"] != '"e2fc714c4727ee9395f324cd2e7f331f"' for v in listed)
        before = pair.entries()

        result, lines = run_engine(pair, tmp_path, ALL)

    assert pair.entries() == before
    assert result.summary.totals.purged == 0
    assert [(line["outcome"], line["reason"]) for line in lines] == [("skipped", "unverifiable")]
    assert result.summary.requests.head == 3  # the target version, both same-size source ones


def test_md5_proof_needs_per_object_encryption_from_head(pair: BucketPair, tmp_path: Path) -> None:
    pair.put("k", "abcd")
    pair.put("k", "wxyz")
    pair.put("k", "1234", bucket=pair.target)  # same size as both, content the source lacks
    pair.put("k", "wxyz", bucket=pair.target)

    result, lines = run_engine(pair, tmp_path, ALL)

    assert [(line["outcome"], line["proof"]) for line in lines] == [("purged", "md5")]
    assert result.summary.by_proof == {"md5": 1}
    assert result.summary.requests.head == 3  # target version + the two same-size sources
