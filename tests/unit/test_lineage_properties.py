"""Invariant 1 under lineage, on random histories of one key (hypothesis).

The source key is written in generations: a few writes (bodies of which two share a size;
plain, SSE-KMS or multipart), then a sync that copies the last of them, so the others are
never copied; a generation starts in the second the last one ended in, or the next, so
versions often share size and second. Each copy is recorded by a Basic-mode record (no
ETag), an Enhanced-mode one (ETag), or none; strays are written at the target; then some
source versions are permanently deleted. Whatever the diff and its HEAD proofs purge, every
body that a surviving source version holds and a target version held is still held at the
target, and no copy of a surviving source version is purged (docs/design.md §4, invariant 1).
HeadObject answers from the ground truth.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, target
from hypothesis import strategies as st

from syncpurge.core.source_facts import Origin
from syncpurge.data.s3shapes import ObjectFacts
from syncpurge.models import Entry, Proof
from tests.unit.diff_cases import Heads, histories, run

pytestmark = pytest.mark.unit

BASE = datetime(2026, 1, 1, tzinfo=UTC)
BODIES = ["AAAAA", "CCCCC", "AAAAA", "CCCCC", "BBBBBBB"]  # A and C share a size
# Weighted towards what listings can't settle: KMS and multipart ETags, ETag-less records.
ENCODINGS = ["kms", "kms", "multipart", "plain"]
RECORDS = ["basic", "basic", "enhanced", None]


@dataclass(frozen=True)
class Written:
    """A version as written, with the truth the property judges by."""

    vid: str
    body: str
    encoding: str
    at: datetime

    def etag(self) -> str:
        digest = hashlib.md5(self.body.encode()).hexdigest()  # an S3 ETag
        if self.encoding == "kms":
            return '"' + hashlib.sha256(self.vid.encode()).hexdigest()[:32] + '"'
        return f'"{digest}-2"' if self.encoding == "multipart" else f'"{digest}"'

    def entry(self, latest: bool) -> Entry:
        return Entry("doc", self.vid, latest, self.at, False, len(self.body), self.etag())

    def facts(self) -> ObjectFacts:
        return ObjectFacts(
            etag=self.etag(),
            size=len(self.body),
            server_side_encryption="aws:kms" if self.encoding == "kms" else None,
            customer_key=False,
            checksums={},
            checksum_type=None,
            replication_status=None,
        )


write = st.tuples(st.sampled_from(BODIES), st.sampled_from(ENCODINGS), st.booleans())
generation = st.tuples(
    st.lists(write, min_size=1, max_size=3),  # (body, encoding, survives) in write order
    st.booleans(),  # starts in the next second
    st.sampled_from(RECORDS),  # how the sync's copy is recorded
    st.sampled_from(ENCODINGS),  # the copy's encoding
)
stray = st.tuples(st.integers(0, 5), st.sampled_from(BODIES), st.sampled_from(ENCODINGS))
Generation = tuple[list[tuple[str, str, bool]], bool, str | None, str]


@dataclass
class Story:
    source: list[Written]
    surviving: set[str]
    target: list[Written]
    copy_of: dict[str, str]  # target vid -> source vid
    lineage: dict[str, Origin]


def story(generations: list[Generation], strays: list[tuple[int, str, str]]) -> Story:
    told = Story([], set(), [], {}, {})
    second = 0
    for writes, tick, record, copy_encoding in generations:
        second += tick
        for body, encoding, survives in writes:
            n = len(told.source)
            at = BASE + timedelta(seconds=second, milliseconds=n)
            told.source.append(Written(f"s{n}", body, encoding, at))
            if survives:
                told.surviving.add(f"s{n}")
        copied = told.source[-1]  # the sync copies the current version
        copy = Written(f"t{len(told.target)}", copied.body, copy_encoding, BASE)
        told.target.append(copy)
        told.copy_of[copy.vid] = copied.vid
        if record is not None:
            etag = copied.etag() if record == "enhanced" else None
            origin = Origin("doc", len(copied.body), copied.at.replace(microsecond=0), etag)
            told.lineage[copy.vid] = origin
    for n, (at, body, encoding) in enumerate(strays):
        told.target.insert(min(at, len(told.target)), Written(f"x{n}", body, encoding, BASE))
    return told


def newest_first(versions: list[Written]) -> list[Entry]:
    return [v.entry(latest=i == 0) for i, v in enumerate(reversed(versions))]


@given(
    generations=st.lists(generation, min_size=2, max_size=4),
    strays=st.lists(stray, max_size=2),
)
# Issue 2, defect 2: A (s0) is copied; A (s1) and C (s2, A's size) in one second, C copied;
# B (s3) copied; s0 and s2 deleted. C's Basic-mode record names s1 as well as s2.
@example(
    generations=[
        ([("AAAAA", "kms", False)], False, "basic", "kms"),
        ([("AAAAA", "kms", True), ("CCCCC", "kms", False)], True, "basic", "kms"),
        ([("BBBBBBB", "kms", True)], True, "basic", "kms"),
    ],
    strays=[],
)
# The same, found by search: A's copies name C's surviving version s4 by size and second,
# and the target's only copy of C (of s2, gone) went by lineage.
@example(
    generations=[
        ([("AAAAA", "kms", False)], False, "basic", "kms"),
        ([("CCCCC", "kms", False)], False, "basic", "kms"),
        ([("CCCCC", "kms", True), ("AAAAA", "kms", False)], True, "basic", "kms"),
    ],
    strays=[],
)
def test_lineage_never_purges_the_target_s_only_copy_of_what_the_source_holds(
    generations: list[Generation], strays: list[tuple[int, str, str]]
) -> None:
    told = story(generations, strays)
    survivors = [v for v in told.source if v.vid in told.surviving]
    heads = Heads({("doc", v.vid): v.facts() for v in [*told.source, *told.target]})

    plan, _ = run(
        histories(*newest_first(survivors)),
        histories(*newest_first(told.target)),
        heads=heads,
        lineage=told.lineage,
    )

    purged = {p.entry.version_id for p in plan if p.to_purge}
    # Steer the search to histories where lineage alone proves purges: where it can go wrong
    target(float(sum(p.proof is Proof.LINEAGE for p in plan)), label="lineage purges")
    kept = [t for t in told.target if t.vid not in purged]
    still_held = {v.body for v in survivors} & {t.body for t in told.target}
    assert still_held <= {t.body for t in kept}
    assert not {t for t in purged if told.copy_of.get(t) in told.surviving}
