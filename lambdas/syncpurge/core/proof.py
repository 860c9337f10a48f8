"""HeadObject-based proofs (docs/design.md §3.3) and the per-key rules that follow the diff.

The diff settles what listings can (lineage, size, equal ETags); the candidates it leaves
pending are settled here with concurrent HeadObject requests, a batch of keys at a time:

- checksum: full-object checksums of one algorithm on both sides, none equal → purge;
- md5: both ETags are MD5s of the content (single-part, and HeadObject reports neither
  SSE-KMS, DSSE-KMS nor SSE-C), none equal → purge;
- replica: replication mode purges an entry the source lacks only if it is a REPLICA.

Any equality means the source holds the content: the entry is kept. Whatever no tier
settles is skipped `unverifiable`. Then, per key, the current entry is kept
(`protects-current`) unless every entry of the key goes (invariant 6).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import groupby, islice
from typing import Protocol

from syncpurge.core.rules import Candidate, PendingProof
from syncpurge.data.s3shapes import ObjectFacts
from syncpurge.models import Entry, PlannedEntry, Proof, SkipReason


class HeadReader(Protocol):
    """What the HEAD tiers need of a bucket's data access (S3Store has it)."""

    def head_version(self, bucket: str, key: str, version_id: str) -> ObjectFacts | None: ...


KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
BATCH_PENDING = 256  # pending candidates resolved together (their HEADs run concurrently)
HEAD_WORKERS = 16
PIECE_CANDIDATES = 10_000  # a long key's candidates are settled this many at a time


def md5_comparable(facts: ObjectFacts) -> bool:
    """The ETag is an MD5 of the content: single-part, no KMS / DSSE-KMS / SSE-C."""
    return (
        facts.etag is not None
        and "-" not in facts.etag
        and facts.server_side_encryption not in KMS_ALGORITHMS
        and not facts.customer_key
    )


def full_object_checksum(facts: ObjectFacts) -> tuple[str, str] | None:
    """(algorithm, value) of a full-object checksum; CRC64NVME is always full-object."""
    for algorithm, value in facts.checksums.items():
        if facts.checksum_type == "FULL_OBJECT" or (
            facts.checksum_type is None and algorithm == "CRC64NVME"
        ):
            return algorithm, value
    return None


EQUAL = "equal"


def compare_content(target: ObjectFacts, source: ObjectFacts) -> Proof | str | None:
    """EQUAL: equal content; a Proof: different, and how that is known; None: can't tell."""
    target_sum, source_sum = full_object_checksum(target), full_object_checksum(source)
    if target_sum and source_sum and target_sum[0] == source_sum[0]:
        return EQUAL if target_sum[1] == source_sum[1] else Proof.CHECKSUM
    if md5_comparable(target) and md5_comparable(source):
        return EQUAL if target.etag == source.etag else Proof.MD5
    return None


class HeadCache:
    """HeadObject answers of one batch, fetched concurrently, each version at most once."""

    def __init__(
        self, source: HeadReader, target: HeadReader, source_bucket: str, target_bucket: str
    ) -> None:
        self.stores = {"source": (source, source_bucket), "target": (target, target_bucket)}
        self.facts: dict[tuple[str, str, str], ObjectFacts | None] = {}

    def fetch(self, wanted: Iterable[tuple[str, str, str]], pool: ThreadPoolExecutor) -> None:
        todo = [w for w in dict.fromkeys(wanted) if w not in self.facts]

        def head(item: tuple[str, str, str]) -> ObjectFacts | None:
            store, bucket = self.stores[item[0]]
            return store.head_version(bucket, item[1], item[2])

        for item, facts in zip(todo, pool.map(head, todo), strict=True):
            self.facts[item] = facts

    def get(self, side: str, entry: Entry) -> ObjectFacts | None:
        return self.facts.get((side, entry.key, entry.version_id))


def _wanted(candidate: Candidate) -> Iterator[tuple[str, str, str]]:
    pending, entry = candidate.pending, candidate.planned.entry
    if pending is None or pending.kind == "follows":
        return
    yield ("target", entry.key, entry.version_id)
    if pending.kind == "content":
        yield from (("source", v.key, v.version_id) for v in pending.against)


def _settle(candidate: Candidate, heads: HeadCache) -> PlannedEntry | None:
    """The candidate with its proof, skipped, or None when the source holds its content."""
    pending, planned = candidate.pending, candidate.planned
    if pending is None or pending.kind == "follows":
        return planned
    target = heads.get("target", planned.entry)
    if pending.kind == "replica":
        if target is not None and target.replication_status == "REPLICA":
            return _with(planned, proof=Proof.REPLICA_STATUS)
        return _with(
            planned,
            skip=SkipReason.NOT_A_REPLICA,
            detail="HeadObject does not report ReplicationStatus REPLICA",
        )
    return _settle_content(planned, pending, target, heads)


def _settle_content(
    planned: PlannedEntry, pending: PendingProof, target: ObjectFacts | None, heads: HeadCache
) -> PlannedEntry | None:
    if target is None:
        return _unverifiable(planned, "HeadObject could not describe the target version")
    proofs: set[Proof] = set()
    for version in pending.against:
        source = heads.get("source", version)
        verdict = compare_content(target, source) if source is not None else None
        if verdict == EQUAL:
            return None
        if not isinstance(verdict, Proof):
            return _unverifiable(
                planned,
                f"same size as source version {version.version_id}, and no full-object "
                "checksum or MD5 ETag (multipart, SSE-KMS or SSE-C) on both to compare",
            )
        proofs.add(verdict)
    proof = Proof.MD5 if Proof.MD5 in proofs else Proof.CHECKSUM
    return _with(planned, proof=proof, detail="its content differs from every source version's")


def _with(planned: PlannedEntry, **changes: object) -> PlannedEntry:
    if "proof" in changes:
        changes.setdefault("skip", None)
    return dataclasses.replace(planned, **changes)  # type: ignore[arg-type]


def _unverifiable(planned: PlannedEntry, detail: str) -> PlannedEntry:
    return _with(planned, skip=SkipReason.UNVERIFIABLE, proof=None, detail=detail)


def finish_key(group: list[tuple[Candidate, PlannedEntry | None]]) -> list[PlannedEntry]:
    """A key's settled entries, with its markers following its versions (replication)."""
    settled = [(c, p) for c, p in group if p is not None]
    versions_all_go = all(
        p.to_purge for c, p in settled if not p.entry.is_delete_marker
    ) and not any(p is None for c, p in group if not c.planned.entry.is_delete_marker)
    out: list[PlannedEntry] = []
    for candidate, planned in settled:
        follows = candidate.pending is not None and candidate.pending.kind == "follows"
        if not follows or planned.skip is SkipReason.GRACE:
            out.append(planned)
        elif versions_all_go:
            out.append(_with(planned, proof=Proof.FOLLOWS_REPLICAS))
        else:
            out.append(
                _with(
                    planned,
                    skip=SkipReason.NOT_A_REPLICA,
                    detail="a marker goes only with its key's versions, all proven replicas",
                )
            )
    return out


@dataclass(slots=True)
class KeyTally:
    """Entries of the key in hand planned to purge so far: its current entry, which comes
    last, goes only if every entry of the key does (invariant 6). A diff resumed inside a
    key starts from the count its previous slice left."""

    key: str | None = None
    purged: int = 0

    def decide(self, planned: PlannedEntry) -> PlannedEntry:
        if planned.entry.key != self.key:
            self.key, self.purged = planned.entry.key, 0
        if not planned.to_purge:
            return planned
        if planned.entry.is_latest and self.purged + 1 < planned.key_entries:
            return _with(
                planned,
                skip=SkipReason.PROTECTS_CURRENT,
                proof=None,
                detail="other entries of the key stay, so its current entry must too",
            )
        self.purged += 1
        return planned


def resolve(
    candidates: Iterable[Candidate],
    *,
    source: HeadReader,
    target: HeadReader,
    source_bucket: str,
    target_bucket: str,
    tally: KeyTally | None = None,
) -> Iterator[PlannedEntry]:
    """Settle the diff's candidates, a batch of keys at a time, in plan order; `tally`
    carries the count of a key a stopped diff left unfinished."""
    heads = HeadCache(source, target, source_bucket, target_bucket)
    tally = tally or KeyTally()
    with ThreadPoolExecutor(HEAD_WORKERS, thread_name_prefix="syncpurge-head") as pool:
        batch: list[list[Candidate]] = []
        pending = held = 0
        for _, key_group in groupby(candidates, key=lambda c: c.planned.entry.key):
            # A long key comes in pieces, so memory stays bounded; only a key that fits in
            # one segment has 'follows' markers, decided over its whole group.
            while group := list(islice(key_group, PIECE_CANDIDATES)):
                batch.append(group)
                pending += sum(1 for c in group if c.pending is not None)
                held += len(group)
                # Nothing to HEAD: no reason to hold the plan back (a re-check by range
                # reads it as it comes, syncpurge.phases.apply_ranges).
                if not pending or pending >= BATCH_PENDING or held >= PIECE_CANDIDATES:
                    yield from map(tally.decide, _resolve_batch(batch, heads, pool))
                    batch, pending, held = [], 0, 0
        if batch:
            yield from map(tally.decide, _resolve_batch(batch, heads, pool))


def _resolve_batch(
    batch: list[list[Candidate]], heads: HeadCache, pool: ThreadPoolExecutor
) -> Iterator[PlannedEntry]:
    heads.fetch((w for group in batch for c in group for w in _wanted(c)), pool)
    for group in batch:
        yield from finish_key([(c, _settle(c, heads)) for c in group])
    heads.facts.clear()
