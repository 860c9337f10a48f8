"""The diff: a streaming merge of source and target histories into a purge plan (docs/design.md §3).

Pure: no I/O. Both inputs are key-ordered streams of KeyHistory (whole keys, or segments of
long ones) named by relative key (the scope's key mapping); the output is one Candidate per
target entry a rule selects (`syncpurge.core.rules`): to purge with its proof, skipped with its
reason, or pending a HeadObject-based proof that `syncpurge.core.proof` settles. A stopped diff
leaves a cursor, between keys or inside one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from syncpurge.core.rules import Candidate, DiffPolicy, KeyWalk, is_folder_object, walk_segment
from syncpurge.core.source_facts import SourceFacts
from syncpurge.models import KeyHistory, Mode, PageMarker, Rule


@dataclass(frozen=True, slots=True)
class SideCursor:
    """Where one side's listing resumes: nowhere (exhausted), or from a page marker."""

    exhausted: bool
    marker: PageMarker | None = None


@dataclass(frozen=True, slots=True)
class InsideKey:
    """A diff stopped inside a key: how far its target entries got, and what carries over.

    `purged` (how many of its entries the slice planned to purge, once proofs settled) is
    filled in by the caller that settles them.
    """

    key: str
    after_version: str
    seen: int
    segments: int
    shared: bool
    current: Candidate | None
    source_predecessor: str | None
    purged: int = 0
    copied: frozenset[str] = frozenset()
    lineage_trusted: bool = False
    lineage_doubted: bool = False


@dataclass(frozen=True, slots=True)
class DiffCursor:
    """A stopped diff: every relative key <= after_key is done on both sides; with
    `inside`, that key is done up to a version (its source side is read again)."""

    after_key: str | None
    source: SideCursor
    target: SideCursor
    inside: InsideKey | None = None


def _side(history: KeyHistory | None) -> SideCursor:
    if history is None:
        return SideCursor(exhausted=True)
    return SideCursor(exhausted=False, marker=history.page_marker)


@dataclass(slots=True)
class DiffStats:
    source_entries: int = 0
    target_entries: int = 0
    keys_in_both: int = 0
    # Keys whose task-report records matched none of their surviving source versions, so
    # lineage proved nothing there (docs/design.md §3.3: it fails safe; the report says so).
    lineage_doubted_keys: int = 0
    # Set when the diff stopped early, to resume from.
    cursor: DiffCursor | None = None
    # The stop was a hand-back (`should_hand_back`): always between keys.
    handed_back: bool = False

    def add(self, other: DiffStats) -> None:
        self.source_entries += other.source_entries
        self.target_entries += other.target_entries
        self.keys_in_both += other.keys_in_both
        self.lineage_doubted_keys += other.lineage_doubted_keys


def diff_histories(
    source: Iterator[KeyHistory],
    target: Iterator[KeyHistory],
    policy: DiffPolicy,
    stats: DiffStats,
    *,
    start_after_key: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    source_key: Callable[[str], str] | None = None,
    inside: InsideKey | None = None,
    up_to: str | None = None,
    should_hand_back: Callable[[], bool] | None = None,
) -> Iterator[Candidate]:
    """Merge both key-ordered streams; yield the candidates of the plan, key by key.

    `should_stop` is asked after each key and between the segments of a long target key;
    when it says yes the diff ends and sets `stats.cursor`, from which a later call resumes
    (the listings restart from its page markers, `start_after_key` is its `after_key` and
    `inside` its `inside`). `source_key` maps a relative key to its source bucket key.
    With `up_to` (a key-range item), the source stream may hold one key past it, looked at
    only to see what follows the range (a folder object's content), never counted.
    `should_hand_back` is asked only after a key, so its cursor is never inside one: the
    range past the cursor's key is untouched and can be handed to other items.
    """

    def stop_between_keys() -> bool:
        if should_hand_back is not None and should_hand_back():
            stats.handed_back = True
            return True
        return should_stop is not None and should_stop()

    to_source = source_key or (lambda rel: rel)
    datasync = policy.mode is Mode.DATASYNC
    vanished_rule = Rule.VANISHED_KEY in policy.rules
    lineage = policy.lineage is not None
    src = next(source, None)
    tgt = next(target, None)
    last_source_key = to_source(start_after_key) if start_after_key is not None else None
    done_key = start_after_key
    # Counted in locals and written back once: this loop runs once per key of the bucket.
    source_entries = target_entries = keys_in_both = doubted = 0
    try:
        if inside is not None and (tgt is None or tgt.key != inside.key):
            # The rest of the stopped key is gone from the listing: settle what it carried.
            yield from _resumed_walk(inside, to_source).finish()
            doubted += inside.lineage_doubted
            done_key, inside = inside.key, None
        while tgt is not None:
            if src is not None and src.key < tgt.key:
                source_entries += len(src.entries)
                last_source_key = to_source(src.key)
                at_key_end = src.last
                if at_key_end:
                    done_key = src.key
                src = next(source, None)
            elif src is not None and src.key == tgt.key and src.whole and tgt.whole:
                # The common case, kept as cheap as it can be: a key whole on both sides.
                source_entries += len(src.entries)
                target_entries += len(tgt.entries)
                keys_in_both += 1
                key = done_key = tgt.key
                last_source_key = to_source(key)
                if not (datasync and _only_current(tgt)):
                    whole = SourceFacts()
                    whole.add(src.entries, policy.mode, lineage=lineage)
                    walk = KeyWalk(key, last_source_key)
                    yield from walk_segment(tgt, walk, whole, policy)
                    yield from walk.finish()
                    doubted += walk.lineage_doubted
                src = next(source, None)
                tgt = next(target, None)
                at_key_end = True
            else:
                key = tgt.key
                resumed = inside is not None and inside.key == key
                # A stop inside this key re-reads its source side from its first segment.
                source_side = _side(src)
                facts: SourceFacts | None = None
                if src is not None and src.key == key:
                    facts = SourceFacts()
                    while src is not None and src.key == key:
                        facts.add(src.entries, policy.mode, lineage=lineage)
                        src = next(source, None)
                    if not resumed:
                        source_entries += facts.entries
                        keys_in_both += 1
                    last_source_key = to_source(key)
                walk = (
                    _resumed_walk(inside, to_source)
                    if resumed and inside is not None
                    else KeyWalk(key, to_source(key), source_predecessor=last_source_key)
                )
                inside = None
                folder_with_content = (
                    facts is None
                    and is_folder_object(key)
                    and src is not None
                    and src.key.startswith(key)
                )
                ignored = facts is None and (not vanished_rule or folder_with_content)
                while True:
                    segment = tgt
                    target_entries += len(segment.entries)
                    quiet = datasync and facts is not None and _only_current(segment)
                    if not (quiet or ignored):
                        yield from walk_segment(segment, walk, facts, policy)
                    tgt = next(target, None)
                    if segment.last or tgt is None or tgt.key != key:
                        break
                    if should_stop is not None and should_stop():
                        stats.cursor = DiffCursor(
                            done_key,
                            source_side,
                            SideCursor(exhausted=False, marker=segment.next_marker),
                            _stopped_inside(walk, segment),
                        )
                        return
                yield from walk.finish()
                doubted += walk.lineage_doubted
                done_key = key
                at_key_end = True
            if at_key_end and stop_between_keys():
                if tgt is not None or src is not None:
                    stats.cursor = DiffCursor(done_key, _side(src), _side(tgt))
                return
        # The rest of the source has nothing to diff against; count it for the report.
        while src is not None and (up_to is None or src.key <= up_to):
            source_entries += len(src.entries)
            at_key_end, done_key = src.last, src.key
            src = next(source, None)
            if at_key_end and src is not None and stop_between_keys():
                stats.cursor = DiffCursor(done_key, _side(src), SideCursor(exhausted=True))
                return
    finally:
        stats.source_entries += source_entries
        stats.target_entries += target_entries
        stats.keys_in_both += keys_in_both
        stats.lineage_doubted_keys += doubted


def _only_current(history: KeyHistory) -> bool:
    """A whole target history of just its current entry: the datasync rules never touch it
    (the common case, so the diff skips the rules for it)."""
    return history.whole and len(history.entries) == 1 and history.entries[0].is_latest


def _stopped_inside(walk: KeyWalk, segment: KeyHistory) -> InsideKey:
    return InsideKey(
        key=walk.key,
        after_version=segment.entries[-1].version_id,
        seen=walk.seen,
        segments=walk.segments,
        shared=walk.shared,
        current=walk.current,
        source_predecessor=walk.source_predecessor,
        copied=frozenset(walk.copied),
        lineage_trusted=walk.lineage_trusted,
        lineage_doubted=walk.lineage_doubted,
    )


def _resumed_walk(inside: InsideKey, to_source: Callable[[str], str]) -> KeyWalk:
    return KeyWalk(
        inside.key,
        to_source(inside.key),
        seen=inside.seen,
        segments=inside.segments,
        shared=inside.shared,
        current=inside.current,
        source_predecessor=inside.source_predecessor,
        copied=set(inside.copied),
        lineage_trusted=inside.lineage_trusted,
        lineage_doubted=inside.lineage_doubted,
    )


def deadline_after(seconds: float) -> Callable[[], bool]:
    """A `should_stop` that says yes once `seconds` of wall time have passed."""
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end
