"""The diff: a streaming merge of source and target histories into a purge plan (DESIGN §3).

Pure: no I/O. Both inputs are key-ordered streams of KeyHistory named by relative key (the
scope's key mapping); the output is one PlannedEntry per target entry a rule selects: to
purge with its proof, skipped with its reason, or pending a HeadObject-based proof that
`syncpurge.proof` settles. Entries no rule selects, and entries a tier proves the source
still holds, are kept and produce nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from syncpurge.models import (
    Entry,
    KeyHistory,
    Mode,
    PageMarker,
    PlannedEntry,
    Proof,
    Rule,
    SkipReason,
)


@dataclass(frozen=True, slots=True)
class Origin:
    """The source object a DataSync transfer read, as its task report records it."""

    relative_key: str
    size: int | None
    last_modified: datetime | None  # to the second, UTC
    etag: str | None

    def is_held_by(self, version: Entry) -> bool:
        if version.is_delete_marker or version.size != self.size:
            return False
        if self.etag is not None and version.etag != self.etag:
            return False
        if self.last_modified is None:
            return True
        return version.last_modified.replace(microsecond=0) == self.last_modified


# Looks up the lineage of a target VersionId (None: no task report records it).
LineageLookup = Callable[[str], Origin | None]


@dataclass(frozen=True, slots=True)
class DiffPolicy:
    mode: Mode
    rules: frozenset[Rule]
    # Target entries modified after this instant are skipped (grace); None: no grace.
    grace_cutoff: datetime | None = None
    lineage: LineageLookup | None = None


@dataclass(frozen=True, slots=True)
class SideCursor:
    """Where one side's listing resumes: nowhere (exhausted), or from a page marker."""

    exhausted: bool
    marker: PageMarker | None = None


@dataclass(frozen=True, slots=True)
class DiffCursor:
    """A stopped diff: every relative key <= after_key is done on both sides."""

    after_key: str
    source: SideCursor
    target: SideCursor


def _side(history: KeyHistory | None) -> SideCursor:
    if history is None:
        return SideCursor(exhausted=True)
    return SideCursor(exhausted=False, marker=history.page_marker)


@dataclass(slots=True)
class DiffStats:
    source_entries: int = 0
    target_entries: int = 0
    keys_in_both: int = 0
    # Set when the diff stopped early, to resume from.
    cursor: DiffCursor | None = None

    def add(self, other: DiffStats) -> None:
        self.source_entries += other.source_entries
        self.target_entries += other.target_entries
        self.keys_in_both += other.keys_in_both


@dataclass(frozen=True, slots=True)
class PendingProof:
    """A candidate only HeadObject can settle (DESIGN §3.3), with what it is compared to.

    kind 'content': a datasync noncurrent version against the same-size source versions;
    'replica': a replication-mode version that must be a proven REPLICA;
    'follows': a replication-mode marker that goes only if all its key's versions go.
    """

    kind: str
    against: tuple[Entry, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """One diff output: a planned entry, and the HEAD-based proof it still awaits (if any)."""

    planned: PlannedEntry
    pending: PendingProof | None = None


def is_folder_object(key: str) -> bool:
    """DataSync writes a directory at an S3 destination as a zero-byte object 'dir/'."""
    return key.endswith("/")


def diff_histories(
    source: Iterator[KeyHistory],
    target: Iterator[KeyHistory],
    policy: DiffPolicy,
    stats: DiffStats,
    *,
    start_after_key: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    source_key: Callable[[str], str] | None = None,
) -> Iterator[Candidate]:
    """Merge both key-ordered streams; yield the candidates of the plan, key by key.

    `should_stop` is asked after each key; when it says yes the diff ends and sets
    `stats.cursor`, from which a later call resumes (the listings restart from its page
    markers, `start_after_key` is its `after_key`). `source_key` maps a relative key to
    its source bucket key (default: the same).
    """
    to_source = source_key or (lambda rel: rel)
    datasync = policy.mode is Mode.DATASYNC
    diff_key = _diff_key_datasync if datasync else _diff_key_replication
    src = next(source, None)
    tgt = next(target, None)
    last_source_key = to_source(start_after_key) if start_after_key is not None else None
    # Counted in locals and written back once: this loop runs once per key of the bucket.
    source_entries = target_entries = keys_in_both = 0
    try:
        while tgt is not None:
            if src is not None and src.key < tgt.key:
                source_entries += len(src.entries)
                done_key = src.key
                last_source_key = to_source(src.key)
                src = next(source, None)
            elif src is not None and src.key == tgt.key:
                source_entries += len(src.entries)
                target_entries += len(tgt.entries)
                keys_in_both += 1
                # The common case: the target holds only its current entry, which the
                # datasync rules never touch.
                if not (datasync and len(tgt.entries) == 1 and tgt.entries[0].is_latest):
                    yield from diff_key(src, tgt, policy, to_source(tgt.key))
                done_key = src.key
                last_source_key = to_source(src.key)
                src = next(source, None)
                tgt = next(target, None)
            else:
                target_entries += len(tgt.entries)
                folder_with_content = (
                    is_folder_object(tgt.key) and src is not None and src.key.startswith(tgt.key)
                )
                if Rule.VANISHED_KEY in policy.rules and not folder_with_content:
                    yield from _vanished(tgt, policy, to_source(tgt.key), last_source_key)
                done_key = tgt.key
                tgt = next(target, None)
            if should_stop is not None and should_stop():
                if tgt is not None or src is not None:
                    stats.cursor = DiffCursor(done_key, _side(src), _side(tgt))
                return
        # The rest of the source has nothing to diff against; count it for the report.
        while src is not None:
            source_entries += len(src.entries)
            done_key = src.key
            src = next(source, None)
            if src is not None and should_stop is not None and should_stop():
                stats.cursor = DiffCursor(done_key, _side(src), SideCursor(exhausted=True))
                return
    finally:
        stats.source_entries += source_entries
        stats.target_entries += target_entries
        stats.keys_in_both += keys_in_both


def _planned(  # noqa: PLR0917 - one call shape for every rule
    entry: Entry,
    rule: Rule,
    detail: str,
    policy: DiffPolicy,
    key_entries: int,
    source_key: str,
    *,
    proof: Proof | None = None,
    pending: PendingProof | None = None,
    source_predecessor: str | None = None,
) -> Candidate:
    """A purge candidate: skipped for grace, else with its proof or its pending check."""
    if policy.grace_cutoff is not None and entry.last_modified > policy.grace_cutoff:
        skipped = PlannedEntry(
            entry, rule, detail, SkipReason.GRACE, source_predecessor, None, source_key, key_entries
        )
        return Candidate(skipped)
    skip = SkipReason.UNVERIFIABLE if pending is not None else None
    planned = PlannedEntry(
        entry, rule, detail, skip, source_predecessor, proof, source_key, key_entries
    )
    return Candidate(planned, pending)


def _vanished(
    tgt: KeyHistory, policy: DiffPolicy, source_key: str, predecessor: str | None
) -> Iterator[Candidate]:
    count = len(tgt.entries)
    datasync = policy.mode is Mode.DATASYNC
    for entry in tgt.entries:
        # Replication: a vanished key's versions go only as proven replicas; markers follow.
        kind = "follows" if entry.is_delete_marker else "replica"
        yield _planned(
            entry,
            Rule.VANISHED_KEY,
            "no entry of the key in the source",
            policy,
            count,
            source_key,
            proof=Proof.VANISHED if datasync else None,
            pending=None if datasync else PendingProof(kind),
            source_predecessor=predecessor,
        )


def _diff_key_datasync(
    src: KeyHistory, tgt: KeyHistory, policy: DiffPolicy, source_key: str
) -> Iterator[Candidate]:
    # DataSync mints new VersionIds, so only lineage or content links a target version to
    # the source; the target's current entry is what the last sync wrote and stays.
    rules = policy.rules
    count = len(tgt.entries)
    versions = [e for e in src.entries if not e.is_delete_marker]
    source_has_marker = len(versions) < len(src.entries)
    identities = {(v.size, v.etag) for v in versions}
    sizes = {v.size for v in versions}
    for entry in tgt.entries:
        if entry.is_latest:
            continue
        if entry.is_delete_marker:
            if not source_has_marker and Rule.ORPHAN_MARKER in rules:
                yield _planned(
                    entry,
                    Rule.ORPHAN_MARKER,
                    "noncurrent marker; the source key has none",
                    policy,
                    count,
                    source_key,
                    proof=Proof.NO_SOURCE_MARKER,
                )
            continue
        if Rule.ORPHAN_VERSION not in rules:
            continue
        if (entry.size, entry.etag) in identities:
            continue  # an equal ETag and size: the source holds this content
        origin = policy.lineage(entry.version_id) if policy.lineage else None
        if origin is not None and origin.relative_key == tgt.key:
            # Exact per version: the source version DataSync copied it from is gone (its
            # own copy, if another version has equal bytes, is a different target version).
            if not any(origin.is_held_by(v) for v in versions):
                yield _planned(
                    entry,
                    Rule.ORPHAN_VERSION,
                    "DataSync copied it from a source version that is gone",
                    policy,
                    count,
                    source_key,
                    proof=Proof.LINEAGE,
                )
            continue
        if entry.size not in sizes:
            yield _planned(
                entry,
                Rule.ORPHAN_VERSION,
                "no source version of the key has its size",
                policy,
                count,
                source_key,
                proof=Proof.SIZE,
            )
            continue
        same_size = tuple(v for v in versions if v.size == entry.size)
        yield _planned(
            entry,
            Rule.ORPHAN_VERSION,
            "a source version has its size; only checksums or MD5 ETags can tell",
            policy,
            count,
            source_key,
            pending=PendingProof("content", same_size),
        )


def _diff_key_replication(
    src: KeyHistory, tgt: KeyHistory, policy: DiffPolicy, source_key: str
) -> Iterator[Candidate]:
    # Replication keeps VersionIds. An entry whose id the source lacks goes only when it is
    # proven a replica: noncurrent on a key that shares an id, or HeadObject says REPLICA.
    source_ids = {entry.version_id for entry in src.entries}
    shared = any(entry.version_id in source_ids for entry in tgt.entries)
    count = len(tgt.entries)
    for entry in tgt.entries:
        if entry.version_id in source_ids:
            continue
        rule = Rule.ORPHAN_MARKER if entry.is_delete_marker else Rule.ORPHAN_VERSION
        if rule not in policy.rules:
            continue
        detail = "VersionId absent from the source history"
        if shared and entry.is_latest:
            # The key's shared entries stay, so its current entry must too (invariant 6).
            yield Candidate(
                PlannedEntry(
                    entry,
                    rule,
                    detail,
                    SkipReason.PROTECTS_CURRENT,
                    None,
                    None,
                    source_key,
                    count,
                )
            )
        elif shared:
            yield _planned(
                entry, rule, detail, policy, count, source_key, proof=Proof.SHARED_VERSION_ID
            )
        else:
            kind = "follows" if entry.is_delete_marker else "replica"
            yield _planned(
                entry, rule, detail, policy, count, source_key, pending=PendingProof(kind)
            )


def deadline_after(seconds: float) -> Callable[[], bool]:
    """A `should_stop` that says yes once `seconds` of wall time have passed."""
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end
