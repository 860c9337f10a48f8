"""What lineage proves and what it doesn't (docs/design.md §3.3 as corrected by issue 17).

Lineage says which source version a target version was copied from. When that version is
gone, the copy goes only if no surviving source version may still hold the same bytes
without a copy of its own at the target.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncpurge.core.source_facts import Origin
from syncpurge.models import KeyHistory, Proof, SkipReason
from tests.unit.diff_cases import Heads, facts, histories, run, version

pytestmark = pytest.mark.unit

S1_AT = datetime(2025, 5, 1, 12, 0, 1, tzinfo=UTC)
S2_AT = datetime(2025, 5, 1, 13, 0, 2, tzinfo=UTC)
S3_AT = datetime(2025, 5, 1, 13, 0, 3, tzinfo=UTC)


def superseded_between_syncs(
    v1_etag: str, s2_etag: str
) -> tuple[list[KeyHistory], list[KeyHistory], dict[str, Origin]]:
    """Issue 17, defect 1: doc = A (S1) is copied to V1; A is written again (S2) and then B
    (S3) before the next sync, so S2 is never copied; S1 is deleted; the sync writes V3 = B."""
    source = histories(
        version("doc", "s3", latest=True, size=7, etag='"b"', at=S3_AT),
        version("doc", "s2", size=5, etag=s2_etag, at=S2_AT),
    )
    target = histories(
        version("doc", "v3", latest=True, size=7, etag='"b-copy"'),
        version("doc", "v1", size=5, etag=v1_etag),
    )
    lineage = {
        "v1": Origin("doc", 5, S1_AT, '"gone"'),
        "v3": Origin("doc", 7, S3_AT, '"b"'),
    }
    return source, target, lineage


def kms_heads() -> Heads:
    return Heads(
        {
            ("doc", "v1"): facts('"kms-v1"', sse="aws:kms"),
            ("doc", "s2"): facts('"kms-s2"', sse="aws:kms"),
        }
    )


def test_a_copy_of_a_gone_version_stays_while_an_uncopied_kms_version_may_hold_its_bytes() -> None:
    # Given SSE-KMS ETags: neither V1's nor S2's ETag is an MD5 of the content
    source, target, lineage = superseded_between_syncs('"kms-v1"', '"kms-s2"')
    heads = kms_heads()

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    # Then V1, the target's only copy of A, is kept
    assert [(p.entry.version_id, p.skip, p.proof) for p in plan] == [
        ("v1", SkipReason.UNVERIFIABLE, None)
    ]


def test_a_multipart_copy_of_a_gone_version_stays_while_an_uncopied_one_may_hold_its_bytes() -> (
    None
):
    # Given no KMS at all, but DataSync copied the large object by multipart upload
    source, target, lineage = superseded_between_syncs('"v1md5-3"', '"s2md5"')
    heads = Heads({("doc", "v1"): facts('"v1md5-3"'), ("doc", "s2"): facts('"s2md5"')})

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    assert [(p.entry.version_id, p.skip) for p in plan] == [("v1", SkipReason.UNVERIFIABLE)]
    assert ("doc", "s2") in heads.asked


def test_when_the_uncopied_version_is_proven_different_the_copy_goes() -> None:
    # Given MD5 ETags on both sides that differ: S2 does not hold V1's bytes
    source, target, lineage = superseded_between_syncs('"aaaa"', '"bbbb"')
    heads = Heads({("doc", "v1"): facts('"aaaa"'), ("doc", "s2"): facts('"bbbb"')})

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    assert [(p.entry.version_id, p.proof) for p in plan] == [("v1", Proof.MD5)]


def test_when_every_same_size_source_version_has_its_own_copy_lineage_proves_it_alone() -> None:
    # Given S2 was copied too (V2, by lineage), so the target keeps a copy of its bytes
    source, target, lineage = superseded_between_syncs('"kms-v1"', '"kms-s2"')
    target = histories(
        *target[0].entries[:1],
        version("doc", "v2", size=5, etag='"kms-v2"'),
        *target[0].entries[1:],
    )
    lineage["v2"] = Origin("doc", 5, S2_AT, '"kms-s2"')
    heads = Heads()

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    assert [(p.entry.version_id, p.proof) for p in plan] == [("v1", Proof.LINEAGE)]
    assert heads.asked == []


def test_a_record_matching_two_source_versions_vouches_for_neither() -> None:
    # Given S2 and S2b alike to the second (size, ETag, LastModified): one copy, two versions
    source, target, lineage = superseded_between_syncs('"kms-v1"', '"kms-s2"')
    source = histories(
        *source[0].entries,
        version("doc", "s2b", size=5, etag='"kms-s2"', at=S2_AT),
    )
    target = histories(
        *target[0].entries[:1],
        version("doc", "v2", size=5, etag='"kms-v2"'),
        *target[0].entries[1:],
    )
    lineage["v2"] = Origin("doc", 5, S2_AT, '"kms-s2"')

    plan, _ = run(source, target, heads=Heads(), lineage=lineage)

    assert [(p.entry.version_id, p.skip) for p in plan] == [("v1", SkipReason.UNVERIFIABLE)]


def test_reports_that_match_no_surviving_source_version_are_not_trusted() -> None:
    # Given Basic-mode records whose Mtime disagrees with the source's LastModified: no
    # record of the key matches any surviving source version, the current one's included
    source = histories(
        version("doc", "s2", latest=True, size=5, etag='"kms-s2"', at=S2_AT),
    )
    target = histories(
        version("doc", "v2", latest=True, size=5, etag='"kms-v2"'),
        version("doc", "v1", size=5, etag='"kms-v1"'),
    )
    skewed = datetime(2025, 5, 1, 15, 0, 2, tzinfo=UTC)
    lineage = {
        "v2": Origin("doc", 5, skewed, None),
        "v1": Origin("doc", 5, S1_AT, None),
    }
    heads = kms_heads()

    plan, stats = run(source, target, heads=heads, lineage=lineage)

    # Then V1 is judged by the content tiers (SSE-KMS: unverifiable), and the run says why
    assert [(p.entry.version_id, p.skip) for p in plan] == [("v1", SkipReason.UNVERIFIABLE)]
    assert stats.lineage_doubted_keys == 1


def test_untrusted_reports_still_let_size_prove_a_purge() -> None:
    source = histories(version("doc", "s2", latest=True, size=5, etag='"s2"', at=S2_AT))
    target = histories(
        version("doc", "v2", latest=True, size=5, etag='"v2"'),
        version("doc", "v1", size=9, etag='"v1"'),
    )
    lineage = {"v1": Origin("doc", 9, S1_AT, None)}

    plan, stats = run(source, target, lineage=lineage)

    assert [(p.entry.version_id, p.proof) for p in plan] == [("v1", Proof.SIZE)]
    assert stats.lineage_doubted_keys == 1


S0_AT = datetime(2025, 5, 1, 11, 0, 0, tzinfo=UTC)


def basic_record_names_two_versions() -> tuple[
    list[KeyHistory], list[KeyHistory], dict[str, Origin]
]:
    """Issue 2 (defect 2): doc = A (S0) is copied to T0; A is written again (S2) and C, of
    A's size, in the same second (S1), which the next sync copies to T1; then B (S3), copied
    to T3; S0 and S1 are permanently deleted. Basic-mode records carry no ETag, so T1's
    record (size, second) names S2 as well as the S1 it came from."""
    source = histories(
        version("doc", "s3", latest=True, size=7, etag='"kms-s3"', at=S3_AT),
        version("doc", "s2", size=5, etag='"kms-s2"', at=S2_AT),
    )
    target = histories(
        version("doc", "t3", latest=True, size=7, etag='"kms-t3"'),
        version("doc", "t1", size=5, etag='"kms-t1"'),
        version("doc", "t0", size=5, etag='"kms-t0"'),
    )
    lineage = {
        "t0": Origin("doc", 5, S0_AT, None),
        "t1": Origin("doc", 5, S2_AT, None),  # S1's second: S2's too
        "t3": Origin("doc", 7, S3_AT, None),
    }
    return source, target, lineage


def test_a_basic_mode_record_matching_by_size_and_second_is_no_copy_of_that_version() -> None:
    # Given T0 holds A, which S2 still holds; T1 holds C, and its record names S2 ambiguously
    source, target, lineage = basic_record_names_two_versions()
    heads = Heads(
        {
            ("doc", "t0"): facts('"kms-t0"', sse="aws:kms"),
            ("doc", "s2"): facts('"kms-s2"', sse="aws:kms"),
        }
    )

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    # Then T0, the target's only copy of A, stays: the content tiers can't tell it from S2
    assert [(p.entry.version_id, p.skip, p.proof) for p in plan] == [
        ("t0", SkipReason.UNVERIFIABLE, None)
    ]
    assert ("doc", "s2") in heads.asked


def test_a_basic_mode_copy_of_a_gone_version_goes_when_content_proves_it_differs() -> None:
    # Given MD5 ETags that differ: S2 does not hold T0's bytes
    source, target, lineage = basic_record_names_two_versions()
    heads = Heads({("doc", "t0"): facts('"aaaa"'), ("doc", "s2"): facts('"bbbb"')})

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    assert [(p.entry.version_id, p.proof) for p in plan] == [("t0", Proof.MD5)]


def test_a_basic_mode_record_matching_two_surviving_versions_vouches_for_neither() -> None:
    # Given S2 and S2b, both surviving, alike in size and second (other bytes): T1's record
    # matches both, and T2's names neither, so neither has a copy of its own by lineage
    source, target, lineage = basic_record_names_two_versions()
    source = histories(
        *source[0].entries,
        version("doc", "s2b", size=5, etag='"kms-s2b"', at=S2_AT),
    )
    heads = Heads(
        {
            ("doc", "t0"): facts('"kms-t0"', sse="aws:kms"),
            ("doc", "s2"): facts('"kms-s2"', sse="aws:kms"),
            ("doc", "s2b"): facts('"kms-s2b"', sse="aws:kms"),
        }
    )

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    assert [(p.entry.version_id, p.skip) for p in plan] == [("t0", SkipReason.UNVERIFIABLE)]


def test_an_enhanced_mode_record_names_its_version_by_etag_among_same_second_ones() -> None:
    # Given the same story with Enhanced-mode records: T1's ETag names S1 (gone), and T2's
    # names S2, so S2 has a copy of its own and lineage alone proves T0 and T1 go
    source, target, lineage = basic_record_names_two_versions()
    target = histories(
        *target[0].entries[:1],
        version("doc", "t2", size=5, etag='"kms-t2"'),
        *target[0].entries[1:],
    )
    lineage = {
        "t0": Origin("doc", 5, S0_AT, '"kms-s0"'),
        "t1": Origin("doc", 5, S2_AT, '"kms-s1"'),
        "t2": Origin("doc", 5, S2_AT, '"kms-s2"'),
        "t3": Origin("doc", 7, S3_AT, '"kms-s3"'),
    }
    heads = Heads()

    plan, _ = run(source, target, heads=heads, lineage=lineage)

    assert [(p.entry.version_id, p.proof) for p in plan] == [
        ("t1", Proof.LINEAGE),
        ("t0", Proof.LINEAGE),
    ]
    assert heads.asked == []
