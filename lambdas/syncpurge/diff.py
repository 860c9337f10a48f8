"""The diff: a streaming merge of source and target histories into a purge plan (DESIGN §3).

Pure: no I/O. Both inputs are key-ordered streams of KeyHistory; the output is one
PlannedEntry per target entry a rule selects (to purge, or skipped with its reason).
Entries no rule selects are kept and produce nothing.
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
    Rule,
    SkipReason,
)


@dataclass(frozen=True, slots=True)
class DiffPolicy:
    mode: Mode
    rules: frozenset[Rule]
    # Target entries modified after this instant are skipped (grace); None: no grace.
    grace_cutoff: datetime | None = None
    # False under SSE-KMS, where an ETag is not a digest of the content.
    etags_comparable: bool = True


@dataclass(frozen=True, slots=True)
class SideCursor:
    """Where one side's listing resumes: nowhere (exhausted), or from a page marker."""

    exhausted: bool
    marker: PageMarker | None = None


@dataclass(frozen=True, slots=True)
class DiffCursor:
    """A stopped diff: every key <= after_key is done on both sides."""

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
    keys_sharing_version_ids: int = 0
    # Set when the diff stopped early, to resume from.
    cursor: DiffCursor | None = None

    def add(self, other: DiffStats) -> None:
        self.source_entries += other.source_entries
        self.target_entries += other.target_entries
        self.keys_in_both += other.keys_in_both
        self.keys_sharing_version_ids += other.keys_sharing_version_ids


def is_single_part(etag: str | None) -> bool:
    """A multipart ETag ends in `-<parts>` and is not a digest of the content."""
    return etag is not None and "-" not in etag


def diff_histories(
    source: Iterator[KeyHistory],
    target: Iterator[KeyHistory],
    policy: DiffPolicy,
    stats: DiffStats,
    *,
    start_after_key: str | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[PlannedEntry]:
    """Merge both key-ordered streams; yield the plan.

    `should_stop` is asked after each key; when it says yes the diff ends and sets
    `stats.cursor`, from which a later call resumes (the listings restart from its page
    markers, `start_after_key` is its `after_key`).
    """
    datasync = policy.mode is Mode.DATASYNC
    diff_key = _diff_key_datasync if datasync else _diff_key_replication
    vanished_enabled = Rule.VANISHED_KEY in policy.rules
    src = next(source, None)
    tgt = next(target, None)
    last_source_key = start_after_key
    # Counted in locals and written back once: this loop runs once per key of the bucket.
    source_entries = target_entries = keys_in_both = 0
    try:
        while tgt is not None:
            if src is not None and src.key < tgt.key:
                source_entries += len(src.entries)
                done_key = last_source_key = src.key
                src = next(source, None)
            elif src is not None and src.key == tgt.key:
                source_entries += len(src.entries)
                target_entries += len(tgt.entries)
                keys_in_both += 1
                # The common case: the target holds only its current entry, which the
                # datasync rules never touch.
                if not (datasync and len(tgt.entries) == 1 and tgt.entries[0].is_latest):
                    planned = diff_key(src, tgt, policy, stats)
                    if planned:
                        yield from planned
                done_key = last_source_key = src.key
                src = next(source, None)
                tgt = next(target, None)
            else:
                target_entries += len(tgt.entries)
                if vanished_enabled:
                    for entry in tgt.entries:
                        yield _select(
                            entry,
                            Rule.VANISHED_KEY,
                            "no entry of the key in the source",
                            policy,
                            last_source_key,
                        )
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


def _select(
    entry: Entry,
    rule: Rule,
    detail: str,
    policy: DiffPolicy,
    source_predecessor: str | None = None,
) -> PlannedEntry:
    if policy.grace_cutoff is not None and entry.last_modified > policy.grace_cutoff:
        return PlannedEntry(entry, rule, detail, SkipReason.GRACE, source_predecessor)
    return PlannedEntry(entry, rule, detail, None, source_predecessor)


def _diff_key_datasync(
    src: KeyHistory, tgt: KeyHistory, policy: DiffPolicy, stats: DiffStats
) -> list[PlannedEntry]:
    # DataSync mints new VersionIds, so only content identity links a target version to
    # the source; the target's current entry is what the last sync wrote and stays.
    planned: list[PlannedEntry] = []
    rules = policy.rules
    comparable = is_single_part if policy.etags_comparable else _never
    identities: set[tuple[int | None, str | None]] = set()
    uncomparable_sizes: set[int | None] = set()
    source_has_marker = False
    for entry in src.entries:
        if entry.is_delete_marker:
            source_has_marker = True
        elif comparable(entry.etag):
            identities.add((entry.size, entry.etag))
        else:
            uncomparable_sizes.add(entry.size)
    for entry in tgt.entries:
        if entry.is_latest:
            continue
        if entry.is_delete_marker:
            if not source_has_marker and Rule.ORPHAN_MARKER in rules:
                planned.append(
                    _select(
                        entry,
                        Rule.ORPHAN_MARKER,
                        "noncurrent marker; the source key has none",
                        policy,
                    )
                )
            continue
        if Rule.ORPHAN_VERSION not in rules:
            continue
        if comparable(entry.etag):
            if (entry.size, entry.etag) in identities:
                continue
            uncertain = entry.size in uncomparable_sizes
        else:
            # An ETag that is not a digest (multipart, SSE-KMS) compares with nothing, but
            # a size no source version has still proves the content differs.
            uncertain = entry.size in uncomparable_sizes or any(
                size == entry.size for size, _ in identities
            )
        if uncertain:
            planned.append(
                PlannedEntry(
                    entry,
                    Rule.ORPHAN_VERSION,
                    "ETag not comparable (multipart or SSE-KMS) with a same-size source version",
                    SkipReason.UNVERIFIABLE,
                )
            )
        else:
            planned.append(
                _select(
                    entry,
                    Rule.ORPHAN_VERSION,
                    "noncurrent version; no source version has its content",
                    policy,
                )
            )
    return planned


def _diff_key_replication(
    src: KeyHistory, tgt: KeyHistory, policy: DiffPolicy, stats: DiffStats
) -> list[PlannedEntry]:
    # Replication keeps VersionIds: a target entry whose id the source no longer has was
    # permanently deleted there (or never came from it).
    planned: list[PlannedEntry] = []
    source_ids = {entry.version_id for entry in src.entries}
    shared = False
    for entry in tgt.entries:
        if entry.version_id in source_ids:
            shared = True
            continue
        rule = Rule.ORPHAN_MARKER if entry.is_delete_marker else Rule.ORPHAN_VERSION
        if rule in policy.rules:
            planned.append(_select(entry, rule, "VersionId absent from the source history", policy))
    if shared:
        stats.keys_sharing_version_ids += 1
    return planned


def _never(etag: str | None) -> bool:
    return False


def deadline_after(seconds: float) -> Callable[[], bool]:
    """A `should_stop` that says yes once `seconds` of wall time have passed."""
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end
