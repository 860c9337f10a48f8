"""The purge rules of docs/design.md §3 for one key, fed its target history a segment at a time.

Pure: no I/O. The source side of a key is reduced to `SourceFacts` (what the rules ask of
it, not its entries); the target side streams through a `KeyWalk`, which holds back the
key's current entry and hands it on last, once the key's length is known: a key with
millions of versions is never held whole (issue 8, defect 10).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from syncpurge.core.source_facts import MAX_SAME_SIZE, Origin, SourceFacts
from syncpurge.models import Entry, KeyHistory, Mode, PlannedEntry, Proof, Rule, SkipReason

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
class PendingProof:
    """A candidate only HeadObject can settle (docs/design.md §3.3), with what it is compared to.

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


@dataclass(slots=True)
class KeyWalk:
    """One target key on its way through the rules: what carries from segment to segment.

    `seen` counts the key's target entries so far; `shared` says one of them has a VersionId
    the source holds (replication); `current` is the key's current entry's candidate, held
    back until the key ends. A cursor inside the key carries all three to the next slice.
    """

    key: str
    source_key: str
    seen: int = 0
    segments: int = 0
    shared: bool = False
    current: Candidate | None = None
    source_predecessor: str | None = None
    # Lineage (datasync): `copied` holds the source versions that a target version seen so
    # far is the copy of, by a record that names it by ETag (it stays, as its source version
    # exists); `lineage_trusted` says a
    # record of this key matched a surviving source version; `lineage_doubted` says a record
    # was set aside because none did (docs/design.md §3.3: lineage fails safe).
    copied: set[str] = field(default_factory=set)
    lineage_trusted: bool = False
    lineage_doubted: bool = False

    def finish(self) -> Iterator[Candidate]:
        """The held current entry, now that the whole key has been seen."""
        if self.current is None:
            return
        planned, pending = self.current.planned, self.current.pending
        self.current = None
        planned = dataclasses.replace(planned, key_entries=self.seen)
        if self.shared and planned.rule is not Rule.VANISHED_KEY:
            # Replication: the key's shared entries stay, so its current entry must too.
            skip = SkipReason.PROTECTS_CURRENT
            yield Candidate(dataclasses.replace(planned, skip=skip, proof=None))
        elif self.segments > 1 and _follows(pending):
            yield _too_long_to_follow(planned)
        else:
            yield Candidate(planned, pending)


def _follows(pending: PendingProof | None) -> bool:
    return pending is not None and pending.kind == "follows"


def _too_long_to_follow(planned: PlannedEntry) -> Candidate:
    """A marker of a key read in segments: only a whole key's group shows that every one
    of its versions goes, so it can't be proven to follow them (grace still comes first)."""
    if planned.skip is SkipReason.GRACE:
        return Candidate(planned)
    detail = f"{planned.detail}; the key is too long to prove its markers follow its versions"
    skip = SkipReason.UNVERIFIABLE
    return Candidate(dataclasses.replace(planned, skip=skip, proof=None, detail=detail))


def is_folder_object(key: str) -> bool:
    """DataSync writes a directory at an S3 destination as a zero-byte object 'dir/'."""
    return key.endswith("/")


def walk_segment(
    segment: KeyHistory, walk: KeyWalk, facts: SourceFacts | None, policy: DiffPolicy
) -> Iterator[Candidate]:
    """Apply the rules to one segment of a target key (facts None: the key vanished)."""
    walk.seen += len(segment.entries)
    walk.segments += 1
    if facts is None:
        rule_of_entries = _vanished
    elif policy.mode is Mode.DATASYNC:
        rule_of_entries = _datasync
        if policy.lineage is not None:
            _note_copies(segment, walk, facts, policy.lineage)
    else:
        rule_of_entries = _replication
        ids = facts.version_ids
        walk.shared = walk.shared or any(e.version_id in ids for e in segment.entries)
    for candidate in rule_of_entries(segment, walk, facts, policy):
        if candidate.planned.entry.is_latest:
            walk.current = candidate
        elif segment.whole or not _follows(candidate.pending):
            yield candidate
        else:
            yield _too_long_to_follow(candidate.planned)


def _note_copies(
    segment: KeyHistory, walk: KeyWalk, facts: SourceFacts, lineage: LineageLookup
) -> None:
    """Which surviving source versions have a copy of their own at the target, by lineage.

    A record counts only when it names exactly one surviving source version, and by ETag
    (docs/design.md §3.3): a Basic-mode record has none, and its key, size and second may be another
    version's too, with other bytes. Such a match still shows the reports describe this
    source (trust), but vouches for no copy. Entries of a later segment can't vouch for an
    earlier one, which only makes the proof stricter.
    """
    for entry in segment.entries:
        if entry.is_delete_marker:
            continue
        origin = lineage(entry.version_id)
        if origin is None or origin.relative_key != walk.key:
            continue
        held = [s for s in facts.same_size.get(origin.size, ()) if origin.is_held_by(s)]
        if held:
            walk.lineage_trusted = True
            if len(held) == 1 and origin.etag is not None:
                walk.copied.add(held[0].version_id)


def _planned(
    entry: Entry,
    rule: Rule,
    detail: str,
    policy: DiffPolicy,
    walk: KeyWalk,
    *,
    proof: Proof | None = None,
    pending: PendingProof | None = None,
    skip: SkipReason | None = None,
) -> Candidate:
    """A purge candidate: skipped for grace, else with its proof or its pending check."""
    if policy.grace_cutoff is not None and entry.last_modified > policy.grace_cutoff:
        skip, proof, pending = SkipReason.GRACE, None, None
    elif pending is not None:
        skip = SkipReason.UNVERIFIABLE
    planned = PlannedEntry(
        entry,
        rule,
        detail,
        skip,
        walk.source_predecessor if rule is Rule.VANISHED_KEY else None,
        proof,
        walk.source_key,
        walk.seen,
    )
    return Candidate(planned, pending)


def _vanished(
    segment: KeyHistory, walk: KeyWalk, facts: SourceFacts | None, policy: DiffPolicy
) -> Iterator[Candidate]:
    datasync = policy.mode is Mode.DATASYNC
    detail = "no entry of the key in the source"
    for entry in segment.entries:
        if datasync:
            yield _planned(entry, Rule.VANISHED_KEY, detail, policy, walk, proof=Proof.VANISHED)
        else:
            # Replication: a vanished key's versions go only as proven replicas, and its
            # markers follow them.
            pending = PendingProof("follows" if entry.is_delete_marker else "replica")
            yield _planned(entry, Rule.VANISHED_KEY, detail, policy, walk, pending=pending)


def _datasync(
    segment: KeyHistory, walk: KeyWalk, facts: SourceFacts | None, policy: DiffPolicy
) -> Iterator[Candidate]:
    # DataSync mints new VersionIds, so only lineage or content links a target version to
    # the source; the target's current entry is what the last sync wrote and stays.
    assert facts is not None
    rules = policy.rules
    for entry in segment.entries:
        if entry.is_latest:
            continue
        if entry.is_delete_marker:
            if not facts.has_marker and Rule.ORPHAN_MARKER in rules:
                yield _planned(
                    entry,
                    Rule.ORPHAN_MARKER,
                    "noncurrent marker; the source key has none",
                    policy,
                    walk,
                    proof=Proof.NO_SOURCE_MARKER,
                )
            continue
        if Rule.ORPHAN_VERSION not in rules:
            continue
        if (entry.size, entry.etag) in facts.identities:
            continue  # an equal ETag and size: the source holds this content
        yield from _orphan_version(entry, walk, facts, policy)


def _orphan_version(
    entry: Entry, walk: KeyWalk, facts: SourceFacts, policy: DiffPolicy
) -> Iterator[Candidate]:
    origin = policy.lineage(entry.version_id) if policy.lineage else None
    if origin is not None and origin.relative_key == walk.key:
        if walk.lineage_trusted:
            if not origin.is_held_in(facts):
                yield from _copy_of_gone_version(entry, walk, facts, policy)
            return  # its own source version exists: keep
        # No record of this key matches a surviving source version: the reports may not
        # describe this source (another bucket, clocks that disagree); the other tiers prove.
        walk.lineage_doubted = True
    if entry.size not in facts.sizes:
        yield _planned(
            entry,
            Rule.ORPHAN_VERSION,
            "no source version of the key has its size",
            policy,
            walk,
            proof=Proof.SIZE,
        )
        return
    alike = facts.same_size[entry.size]
    if len(alike) > MAX_SAME_SIZE:
        yield _planned(
            entry,
            Rule.ORPHAN_VERSION,
            f"more than {MAX_SAME_SIZE:,} source versions have its size: too many to compare",
            policy,
            walk,
            skip=SkipReason.UNVERIFIABLE,
        )
        return
    yield _planned(
        entry,
        Rule.ORPHAN_VERSION,
        "a source version has its size; only checksums or MD5 ETags can tell",
        policy,
        walk,
        pending=PendingProof("content", tuple(alike)),
    )


def _copy_of_gone_version(
    entry: Entry, walk: KeyWalk, facts: SourceFacts, policy: DiffPolicy
) -> Iterator[Candidate]:
    """A target version DataSync copied from a source version that is gone (docs/design.md §3.3).

    Lineage proves where the copy came from, not that the source dropped its content: a
    surviving source version of the same size may hold the same bytes and never have been
    copied (written and superseded between two syncs). Each such version needs a copy of
    its own at the target that stays, or a content tier proving it differs; else keep.
    """
    alike = facts.same_size.get(entry.size, [])
    if len(alike) > MAX_SAME_SIZE:
        detail = f"more than {MAX_SAME_SIZE:,} source versions have its size: too many to compare"
        skip = SkipReason.UNVERIFIABLE
        yield _planned(entry, Rule.ORPHAN_VERSION, detail, policy, walk, skip=skip)
        return
    uncopied = tuple(s for s in alike if s.version_id not in walk.copied)
    if not uncopied:
        yield _planned(
            entry,
            Rule.ORPHAN_VERSION,
            "DataSync copied it from a source version that is gone, and every source "
            "version of its size has a copy of its own at the target",
            policy,
            walk,
            proof=Proof.LINEAGE,
        )
        return
    yield _planned(
        entry,
        Rule.ORPHAN_VERSION,
        "DataSync copied it from a source version that is gone, but "
        f"{len(uncopied)} source version(s) of its size have no copy at the target; "
        "only checksums or MD5 ETags can tell",
        policy,
        walk,
        pending=PendingProof("content", uncopied),
    )


def _replication(
    segment: KeyHistory, walk: KeyWalk, facts: SourceFacts | None, policy: DiffPolicy
) -> Iterator[Candidate]:
    # Replication keeps VersionIds. An entry whose id the source lacks goes only when it is
    # proven a replica: noncurrent on a key that shares an id, or HeadObject says REPLICA.
    # A key read in segments knows it shares an id only from the segment that shows one:
    # entries before it take the HeadObject proof, the stricter of the two.
    assert facts is not None
    for entry in segment.entries:
        if entry.version_id in facts.version_ids:
            continue
        rule = Rule.ORPHAN_MARKER if entry.is_delete_marker else Rule.ORPHAN_VERSION
        if rule not in policy.rules:
            continue
        detail = "VersionId absent from the source history"
        if walk.shared and not entry.is_latest:
            yield _planned(entry, rule, detail, policy, walk, proof=Proof.SHARED_VERSION_ID)
        else:
            # The current entry is decided again when the key ends (`KeyWalk.finish`).
            kind = "follows" if entry.is_delete_marker else "replica"
            yield _planned(entry, rule, detail, policy, walk, pending=PendingProof(kind))
