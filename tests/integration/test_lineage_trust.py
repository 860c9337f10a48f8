"""Lineage fails safe (docs/design.md §3.3): task reports that match no surviving source version of
a key are set aside for it, the other tiers prove, and the report's advisories say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from moto.s3 import models as moto_s3

from syncpurge.core.lineage import LineageIndex
from syncpurge.core.source_facts import Origin
from tests.engine_runs import run_engine
from tests.helpers import BucketPair, MotoClock, kms_etags

pytestmark = pytest.mark.integration

ALL = {"maxPurgeFraction": 1.0}


def test_reports_whose_times_disagree_with_the_source_are_not_trusted(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given a key whose target copies' records carry an Mtime an hour off S3's LastModified
    pair.put("doc", "AAAAA")
    old = pair.put("doc", "BBBBBBBBB", bucket=pair.target)
    current = pair.put("doc", "AAAAA", bucket=pair.target)
    (source_version,) = pair.client.list_object_versions(Bucket=pair.source)["Versions"]
    skewed = source_version["LastModified"].astimezone(UTC).replace(microsecond=0)
    skewed += timedelta(hours=1)
    lineage = LineageIndex(
        [
            (current, Origin("doc", 5, skewed, None)),
            (old, Origin("doc", 9, datetime(2020, 1, 1, tzinfo=UTC), None)),
        ]
    )

    result, lines = run_engine(pair, tmp_path, ALL, lineage=lineage)

    # Then the old copy is purged by size, not lineage, and the report says why
    assert [(line["versionId"], line["proof"]) for line in lines] == [(old, "size")]
    assert any("lineage not trusted on 1 key" in a for a in result.summary.advisories)


def test_a_basic_mode_record_that_names_two_versions_keeps_the_target_s_only_copy(
    pair: BucketPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 2, defect 2, on S3 as moto keeps it (SSE-KMS: ETags are not MD5s).
    clock = MotoClock()
    monkeypatch.setattr(moto_s3, "utcnow", clock)

    def put(bucket: str, body: str) -> str:
        response = pair.client.put_object(
            Bucket=bucket, Key="doc", Body=body.encode(), ServerSideEncryption="aws:kms"
        )
        return str(response["VersionId"])

    def copied(body: str) -> tuple[str, Origin]:
        """A DataSync copy of the source's current version, and its Basic-mode record: its
        key, size and LastModified to the second, no ETag."""
        (current,) = [
            v
            for v in pair.client.list_object_versions(Bucket=pair.source)["Versions"]
            if v["IsLatest"]
        ]
        second = current["LastModified"].astimezone(UTC).replace(microsecond=0)
        return put(pair.target, body), Origin("doc", current["Size"], second, None)

    with kms_etags():
        # Given A (S0) copied to T0; then A again (S2) and C (S1, A's size) in one second,
        # S1 copied to T1; then B (S3), copied; then S0 and S1 permanently deleted
        s0 = put(pair.source, "AAAAA")
        t0 = copied("AAAAA")
        clock.next_second()
        put(pair.source, "AAAAA")
        s1 = put(pair.source, "CCCCC")
        t1 = copied("CCCCC")
        clock.next_second()
        put(pair.source, "BBBBBBB")
        t3 = copied("BBBBBBB")
        pair.delete_version("doc", s0)
        pair.delete_version("doc", s1)

        result, lines = run_engine(pair, tmp_path, ALL, lineage=LineageIndex([t0, t1, t3]))

    # Then T0, the target's only copy of A (which S2 holds), is kept, not purged by lineage
    assert [(line["versionId"], line["outcome"], line["reason"]) for line in lines] == [
        (t0[0], "skipped", "unverifiable")
    ]
    bodies = {
        pair.client.get_object(Bucket=pair.target, Key="doc", VersionId=vid)["Body"].read()
        for _, vid, _ in pair.entries(pair.target)
    }
    assert b"AAAAA" in bodies
    assert result.summary.totals.purged == 0
