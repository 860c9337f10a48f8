"""docs/design.md §3.3: the proofs only HeadObject or the DataSync task reports can give
(multipart, SSE-KMS, MD5, checksum and lineage tiers), on hand-built histories."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncpurge.core.source_facts import Origin
from syncpurge.models import Proof, Rule, SkipReason
from tests.unit.diff_cases import Heads, facts, histories, purged, run, version

pytestmark = pytest.mark.unit


def test_multipart_target_etag_with_same_size_source_is_unverifiable_not_purged() -> None:
    source = histories(
        version("k", "s2", latest=True, size=10, etag='"new"'),
        version("k", "s1", size=7, etag='"abc-2"'),
    )
    target = histories(
        version("k", "t2", latest=True, size=10, etag='"new"'),
        version("k", "t1", size=7, etag='"def-3"'),
        version("k", "t0", size=7, etag='"single"'),
    )

    plan, _ = run(source, target)

    assert purged(plan) == set()
    assert {(p.entry.version_id, p.skip) for p in plan} == {
        ("t1", SkipReason.UNVERIFIABLE),
        ("t0", SkipReason.UNVERIFIABLE),
    }


def test_multipart_target_version_with_a_size_no_source_version_has_is_orphan() -> None:
    source = histories(version("k", "s2", latest=True, size=10, etag='"new"'))
    target = histories(
        version("k", "t2", latest=True, size=10, etag='"new"'),
        version("k", "t1", size=99, etag='"abc-4"'),
    )

    plan, _ = run(source, target)

    assert purged(plan) == {("k", "t1", Rule.ORPHAN_VERSION)}


def test_kms_etags_never_prove_a_difference_the_content_is_the_same() -> None:
    # Defect 1: an SSE-KMS ETag is not an MD5 of the content. The target's copy of a
    # version the source still holds lists another ETag; HeadObject reports aws:kms.
    source = histories(
        version("k", "s2", latest=True, size=10, etag='"new"'),
        version("k", "s1", size=5, etag='"plain-md5"'),
    )
    target = histories(
        version("k", "t2", latest=True, size=10, etag='"new"'),
        version("k", "t1", size=5, etag='"kms-random"'),
    )
    heads = Heads({("k", "t1"): facts('"kms-random"', sse="aws:kms"), ("k", "s1"): facts()})

    plan, _ = run(source, target, heads=heads)

    assert purged(plan) == set()
    assert [(p.entry.version_id, p.skip) for p in plan] == [("t1", SkipReason.UNVERIFIABLE)]


def test_md5_tier_purges_only_with_per_object_encryption_known_from_head() -> None:
    source = histories(
        version("k", "s2", latest=True, size=10, etag='"new"'),
        version("k", "s1", size=5, etag='"one"'),
    )
    target = histories(
        version("k", "t2", latest=True, size=10, etag='"new"'),
        version("k", "t1", size=5, etag='"two"'),
    )
    heads = Heads({("k", "t1"): facts('"two"', sse="AES256"), ("k", "s1"): facts('"one"')})

    plan, _ = run(source, target, heads=heads)

    assert [(p.entry.version_id, p.proof) for p in plan if p.to_purge] == [("t1", Proof.MD5)]
    assert set(heads.asked) == {("k", "t1"), ("k", "s1")}  # one per target + same-size source


def test_checksum_tier_decides_before_md5_and_equal_checksums_keep() -> None:
    source = histories(
        version("k", "s3", latest=True, size=10, etag='"new"'),
        version("k", "s1", size=5, etag='"a-2"'),
    )
    target = histories(
        version("k", "t3", latest=True, size=10, etag='"new"'),
        version("k", "t2", size=5, etag='"b-3"'),
        version("k", "t1", size=5, etag='"c-3"'),
    )
    heads = Heads(
        {
            ("k", "s1"): facts('"a-2"', crc="AAA"),
            ("k", "t2"): facts('"b-3"', crc="BBB"),  # different content
            ("k", "t1"): facts('"c-3"', crc="AAA"),  # same content as s1, other part size
        }
    )

    plan, _ = run(source, target, heads=heads)

    assert [(p.entry.version_id, p.proof) for p in plan] == [("t2", Proof.CHECKSUM)]


def test_lineage_purges_a_multipart_copy_whose_source_version_is_gone() -> None:
    gone = datetime(2025, 5, 1, 12, 0, 1, tzinfo=UTC)
    kept_at = datetime(2025, 5, 2, 8, 0, 0, 123000, tzinfo=UTC)
    source = histories(
        version("big", "s2", latest=True, size=9, etag='"x-2"', at=kept_at),
    )
    target = histories(
        version("big", "t2", latest=True, size=9, etag='"y-2"'),
        version("big", "t1", size=9, etag='"z-2"'),
        version("big", "t0", size=9, etag='"w-2"'),
    )
    lineage = {
        "t1": Origin("big", 9, gone, '"old-2"'),  # its source version was purged
        "t0": Origin("big", 9, kept_at.replace(microsecond=0), '"x-2"'),  # still held
    }

    plan, _ = run(source, target, lineage=lineage)

    assert [(p.entry.version_id, p.proof) for p in plan] == [("t1", Proof.LINEAGE)]
