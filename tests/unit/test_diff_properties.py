"""The pure diff in both modes, on random histories split into random pages and into
segments of long keys (hypothesis): it plans what an independent reference model plans,
counts every entry, and keeps invariant 6."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.listing import key_histories
from syncpurge.core.proof import resolve
from syncpurge.core.rules import DiffPolicy
from syncpurge.data.s3shapes import ListingPage
from syncpurge.models import Entry, Mode, PlannedEntry, Rule, SkipReason

pytestmark = pytest.mark.unit

VIDS = [f"v{i}" for i in range(6)]
ETAGS = ['"e1"', '"e2"', '"m1-2"']  # one multipart
SIZES = [1, 2]
PURE_KEYS = ["a.txt", "a.txt.bak", "a b", "\u00e9", "e\u0301", "dir/x", "dir/x/y", "z"]


@st.composite
def key_entries(draw: st.DrawFn, key: str) -> list[Entry]:
    count = draw(st.integers(0, 4))
    vids = draw(st.lists(st.sampled_from(VIDS), min_size=count, max_size=count, unique=True))
    entries = []
    for i, vid in enumerate(vids):
        marker = draw(st.booleans())
        at = datetime(2026, 1, 1, tzinfo=UTC)
        if marker:
            entries.append(Entry(key, vid, i == 0, at, True))
        else:
            size, etag = draw(st.sampled_from(SIZES)), draw(st.sampled_from(ETAGS))
            entries.append(Entry(key, vid, i == 0, at, False, size, etag))
    return entries


@st.composite
def bucket(draw: st.DrawFn) -> list[Entry]:
    return [e for key in sorted(PURE_KEYS) for e in draw(key_entries(key))]


def paged(entries: list[Entry], cuts: list[int]) -> list[ListingPage]:
    bounds = sorted({0, len(entries), *(c % (len(entries) + 1) for c in cuts)})
    return [ListingPage(entries[a:b], [], True) for a, b in itertools.pairwise(bounds)]


def pure_reference(
    source: list[Entry], target: list[Entry], mode: Mode
) -> tuple[set[str], set[str]]:
    """(purge, skipped) key/VersionIds by docs/design.md §3, when no HeadObject can answer."""
    purge: set[str] = set()
    skipped: set[str] = set()
    for key in sorted({t.key for t in target}):
        held = [s for s in source if s.key == key]
        mine = [t for t in target if t.key == key]
        ids = {s.version_id for s in held}
        for t in mine:
            ident = f"{t.key}/{t.version_id}"
            if mode is Mode.REPLICATION:
                shared = any(x.version_id in ids for x in mine)
                if t.version_id in ids:
                    continue
                if shared:
                    (skipped if t.is_latest else purge).add(ident)
                elif t.is_delete_marker and not any(not x.is_delete_marker for x in mine):
                    purge.add(ident)  # markers follow the key's versions: there are none
                else:
                    skipped.add(ident)  # no HeadObject answers: never a proven replica
            elif not held:
                purge.add(ident)
            elif t.is_latest:
                continue
            elif t.is_delete_marker:
                if not any(s.is_delete_marker for s in held):
                    purge.add(ident)
            else:
                versions = [s for s in held if not s.is_delete_marker]
                if any((s.size, s.etag) == (t.size, t.etag) for s in versions):
                    continue
                if any(s.size == t.size for s in versions):
                    skipped.add(ident)  # only HeadObject could tell: unverifiable
                else:
                    purge.add(ident)
    return purge, skipped


class NoHeads:
    def head_version(self, bucket: str, key: str, version_id: str) -> None:
        return None


@pytest.mark.parametrize("mode", list(Mode))
@given(
    source=bucket(),
    target=bucket(),
    source_cuts=st.lists(st.integers(0, 40), max_size=6),
    target_cuts=st.lists(st.integers(0, 40), max_size=6),
)
def test_diff_matches_the_reference_in_both_modes_on_any_paging(
    mode: Mode,
    source: list[Entry],
    target: list[Entry],
    source_cuts: list[int],
    target_cuts: list[int],
) -> None:
    stats = DiffStats()
    plan = list(
        resolve(
            diff_histories(
                key_histories(paged(source, source_cuts)),
                key_histories(paged(target, target_cuts)),
                DiffPolicy(mode, frozenset(Rule)),
                stats,
            ),
            source=NoHeads(),
            target=NoHeads(),
            source_bucket="s",
            target_bucket="t",
        )
    )

    purge = {f"{p.entry.key}/{p.entry.version_id}" for p in plan if p.to_purge}
    skipped = {f"{p.entry.key}/{p.entry.version_id}" for p in plan if not p.to_purge}
    assert (purge, skipped) == pure_reference(source, target, mode)
    assert (stats.source_entries, stats.target_entries) == (len(source), len(target))
    # Invariant 6 stated directly: a key's current entry goes only with all its entries
    for key in {p.entry.key for p in plan}:
        current = [p for p in plan if p.entry.key == key and p.entry.is_latest and p.to_purge]
        if current:
            assert sum(1 for p in plan if p.entry.key == key and p.to_purge) == len(
                [t for t in target if t.key == key]
            )
    assert all(p.skip is not SkipReason.GRACE for p in plan)


def plan_of(
    mode: Mode, source: list[Entry], target: list[Entry], cuts: list[int], segment: int
) -> list[PlannedEntry]:
    return list(
        resolve(
            diff_histories(
                key_histories(paged(source, cuts), segment_entries=segment),
                key_histories(paged(target, cuts), segment_entries=segment),
                DiffPolicy(mode, frozenset(Rule)),
                DiffStats(),
            ),
            source=NoHeads(),
            target=NoHeads(),
            source_bucket="s",
            target_bucket="t",
        )
    )


@pytest.mark.parametrize("mode", list(Mode))
@given(
    source=bucket(),
    target=bucket(),
    cuts=st.lists(st.integers(0, 40), max_size=6),
    segment=st.integers(1, 4),
)
def test_long_keys_diffed_in_segments_never_purge_more_than_whole_keys(
    mode: Mode, source: list[Entry], target: list[Entry], cuts: list[int], segment: int
) -> None:
    # Issue 8, defect 10: keys are streamed in segments of `segment` entries.
    whole = plan_of(mode, source, target, cuts, 10_000)
    segmented = plan_of(mode, source, target, cuts, segment)

    def purged(plan: list[PlannedEntry]) -> set[tuple[str, str]]:
        return {(p.entry.key, p.entry.version_id) for p in plan if p.to_purge}

    def planned(plan: list[PlannedEntry]) -> set[tuple[str, str]]:
        return {(p.entry.key, p.entry.version_id) for p in plan}

    assert len(segmented) == len(planned(segmented))  # each entry once
    if mode is Mode.DATASYNC:
        assert purged(segmented) == purged(whole)
        assert planned(segmented) == planned(whole)
    else:
        # Replication proves less of a long key (a shared id seen late, markers that
        # follow): never more.
        assert purged(segmented) <= purged(whole)
    # Invariant 6: a current entry goes only with every entry of its key
    for p in segmented:
        if p.entry.is_latest and p.to_purge:
            of_key = [t for t in target if t.key == p.entry.key]
            assert all((t.key, t.version_id) in purged(segmented) for t in of_key)
