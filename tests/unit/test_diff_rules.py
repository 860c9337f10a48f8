"""docs/design.md §3: every purge rule, in both modes, on hand-built histories."""

from __future__ import annotations

from datetime import timedelta

import pytest

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.rules import DiffPolicy
from syncpurge.models import Mode, PlannedEntry, Proof, Rule, SkipReason
from tests.unit.diff_cases import (
    ALL_RULES,
    T0,
    Heads,
    facts,
    histories,
    marker,
    purged,
    run,
    version,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("mode", list(Mode))
def test_vanished_key_purges_every_target_entry_in_both_modes(mode: Mode) -> None:
    target = histories(
        marker("a.txt", "m1", latest=True),
        version("a.txt", "v1"),
        version("b.txt", "v2", latest=True),
    )
    source = histories(version("b.txt", "v2" if mode is Mode.REPLICATION else "s2", latest=True))
    # In replication mode a vanished key's versions must be proven replicas.
    heads = Heads({("a.txt", "v1"): facts(replica=True)})

    plan, _ = run(source, target, mode, heads=heads)

    assert purged(plan) == {("a.txt", "m1", Rule.VANISHED_KEY), ("a.txt", "v1", Rule.VANISHED_KEY)}


def test_datasync_orphan_version_when_no_source_version_has_its_size() -> None:
    # Given the source permanently deleted its old version (3 bytes, etag "old")
    source = histories(version("k", "s2", latest=True, etag='"new"'))
    target = histories(
        version("k", "t2", latest=True, etag='"new"'), version("k", "t1", size=3, etag='"old"')
    )

    plan, _ = run(source, target)

    assert purged(plan) == {("k", "t1", Rule.ORPHAN_VERSION)}
    assert [p.proof for p in plan] == [Proof.SIZE]


def test_datasync_keeps_noncurrent_version_whose_content_the_source_still_holds() -> None:
    source = histories(
        version("k", "s2", latest=True, etag='"new"'), version("k", "s1", etag='"old"')
    )
    target = histories(
        version("k", "t2", latest=True, etag='"new"'), version("k", "t1", etag='"old"')
    )

    plan, _ = run(source, target)

    assert plan == []


def test_datasync_same_etag_different_size_is_different_content() -> None:
    source = histories(version("k", "s2", latest=True, size=9, etag='"new"'))
    target = histories(
        version("k", "t2", latest=True, size=9, etag='"new"'),
        version("k", "t1", size=4, etag='"new"'),
    )

    plan, _ = run(source, target)

    assert purged(plan) == {("k", "t1", Rule.ORPHAN_VERSION)}


def test_datasync_never_purges_the_current_entry_of_a_live_key() -> None:
    # The target's current version differs from everything in the source (sync not yet run)
    source = histories(version("k", "s1", latest=True, etag='"x"'))
    target = histories(version("k", "t1", latest=True, etag='"y"'), marker("k2", "tm", latest=True))
    source += histories(version("k2", "s9", latest=True))

    plan, _ = run(source, target)

    assert plan == []


def test_datasync_orphan_marker_only_when_source_history_has_no_marker() -> None:
    target = histories(
        version("k", "t2", latest=True),
        marker("k", "tm"),
        version("k", "t1"),
        version("j", "t4", latest=True),
        marker("j", "jm"),
        version("j", "t3"),
    )
    source = histories(
        version("k", "s2", latest=True),  # k's marker was permanently deleted
        version("j", "s4", latest=True),
        marker("j", "sm"),
        version("j", "s3"),
    )

    plan, _ = run(source, target)

    assert purged(plan) == {("k", "tm", Rule.ORPHAN_MARKER)}


def test_datasync_current_marker_is_kept_while_the_key_exists_in_the_source() -> None:
    source = histories(marker("k", "sm", latest=True), version("k", "s1"))
    target = histories(marker("k", "tm", latest=True), version("k", "t1"))

    plan, _ = run(source, target)

    assert plan == []  # the soft delete is mirrored; nothing leftover


def test_replication_orphans_are_noncurrent_entries_of_keys_sharing_an_id() -> None:
    source = histories(version("k", "v2", latest=True), version("k", "v1"))
    target = histories(
        version("k", "v2", latest=True), version("k", "v1"), marker("k", "m0"), version("k", "v0")
    )

    plan, stats = run(source, target, Mode.REPLICATION)

    assert purged(plan) == {("k", "m0", Rule.ORPHAN_MARKER), ("k", "v0", Rule.ORPHAN_VERSION)}
    assert {p.proof for p in plan} == {Proof.SHARED_VERSION_ID}
    assert stats.keys_in_both == 1


def test_replication_keeps_a_current_entry_the_source_lacks_on_a_live_key() -> None:
    # Defect 3: an object written at the target (or a pending two-way replica) is current.
    source = histories(version("k", "v1", latest=False), version("k", "v9", latest=True))
    target = histories(version("k", "w1", latest=True), version("k", "v1"))

    plan, _ = run(source, target, Mode.REPLICATION)

    assert purged(plan) == set()
    assert [(p.entry.version_id, p.skip) for p in plan] == [("w1", SkipReason.PROTECTS_CURRENT)]


def test_replication_purges_entries_of_an_unshared_key_only_as_proven_replicas() -> None:
    # A seeded copy (no shared id, not a REPLICA) stays; a REPLICA the source dropped goes.
    source = histories(version("seeded", "s1", latest=True), version("rep", "r9", latest=True))
    target = histories(
        version("seeded", "c1", latest=True),
        version("rep", "r2", latest=True),
        version("rep", "r1"),
        marker("rep", "rm"),
    )
    heads = Heads({("rep", "r1"): facts(replica=True), ("rep", "r2"): facts(replica=True)})

    plan, _ = run(source, target, Mode.REPLICATION, heads=heads)

    assert {(p.entry.version_id, p.proof) for p in plan if p.to_purge} == {
        ("r2", Proof.REPLICA_STATUS),
        ("r1", Proof.REPLICA_STATUS),
        ("rm", Proof.FOLLOWS_REPLICAS),
    }
    assert [(p.entry.version_id, p.skip) for p in plan if not p.to_purge] == [
        ("c1", SkipReason.NOT_A_REPLICA)
    ]


def test_replication_vanished_key_goes_only_when_every_version_is_a_replica() -> None:
    target = histories(
        marker("a", "am", latest=True),
        version("a", "a1"),
        version("b", "b2", latest=True),
        version("b", "b1"),
    )
    heads = Heads({("a", "a1"): facts(replica=True), ("b", "b1"): facts(replica=True)})

    plan, _ = run(histories(version("z", "z", latest=True)), target, Mode.REPLICATION, heads=heads)

    outcome = {p.entry.version_id: p.proof or p.skip for p in plan}
    assert outcome == {
        "am": Proof.FOLLOWS_REPLICAS,
        "a1": Proof.REPLICA_STATUS,
        "b2": SkipReason.NOT_A_REPLICA,  # written at the target: never purged
        "b1": Proof.REPLICA_STATUS,
    }


def test_folder_objects_are_not_vanished_while_the_source_holds_keys_under_them() -> None:
    # Defect 4: DataSync writes 'dir/' as a zero-byte object; the source has no such key.
    source = histories(version("dir/file", "s1", latest=True))
    target = histories(
        version("dir/", "f1", latest=True, size=0),
        version("dir/file", "t1", latest=True),
        version("empty/", "f2", latest=True, size=0),
    )

    plan, _ = run(source, target)

    assert purged(plan) == {("empty/", "f2", Rule.VANISHED_KEY)}


def test_a_grace_skipped_entry_keeps_its_key_s_current_entry() -> None:
    recent = T0 + timedelta(minutes=10)
    target = histories(version("gone", "g2", latest=True), version("gone", "g1", at=recent))

    plan, _ = run(
        histories(version("z", "z", latest=True)), target, cutoff=T0 + timedelta(minutes=5)
    )

    assert {(p.entry.version_id, p.skip) for p in plan} == {
        ("g2", SkipReason.PROTECTS_CURRENT),
        ("g1", SkipReason.GRACE),
    }


def test_disabled_rules_plan_nothing() -> None:
    source = histories(version("k", "s2", latest=True, etag='"n"'))
    target = histories(
        version("k", "t2", latest=True, etag='"n"'),
        version("k", "t1", etag='"o"'),
        marker("k", "tm"),
        version("gone", "g1", latest=True),
    )

    plan, _ = run(source, target, rules=frozenset({Rule.ORPHAN_MARKER}))

    assert purged(plan) == {("k", "tm", Rule.ORPHAN_MARKER)}


def test_grace_skips_entries_newer_than_the_cutoff() -> None:
    recent = T0 + timedelta(minutes=10)
    target = histories(
        version("old", "o1", latest=True), version("new", "n1", latest=True, at=recent)
    )

    plan, _ = run([], target, cutoff=T0 + timedelta(minutes=5))

    assert purged(plan) == {("old", "o1", Rule.VANISHED_KEY)}
    assert [(p.entry.key, p.skip) for p in plan if not p.to_purge] == [("new", SkipReason.GRACE)]


def test_exact_keys_a_txt_never_touches_a_txt_bak() -> None:
    source = histories(version("a.txt.bak", "s1", latest=True))
    target = histories(version("a.txt", "t1", latest=True), version("a.txt.bak", "t2", latest=True))

    plan, _ = run(source, target)

    assert purged(plan) == {("a.txt", "t1", Rule.VANISHED_KEY)}


def test_keys_compare_byte_for_byte_without_unicode_normalisation() -> None:
    nfc, nfd = "caf\u00e9", "cafe\u0301"  # the same text, different bytes
    source = histories(version(nfc, "s1", latest=True))
    target = histories(version(nfd, "t1", latest=True), version(nfc, "t2", latest=True))

    plan, _ = run(sorted(source, key=lambda h: h.key), sorted(target, key=lambda h: h.key))

    assert purged(plan) == {(nfd, "t1", Rule.VANISHED_KEY)}


def test_source_predecessor_is_the_last_source_key_before_a_vanished_key() -> None:
    source = histories(version("a", "s", latest=True), version("c", "s", latest=True))
    target = histories(version("b", "t", latest=True), version("d", "t", latest=True))

    plan, _ = run(source, target)

    assert [(p.entry.key, p.source_predecessor) for p in plan] == [("b", "a"), ("d", "c")]


def test_stopping_early_sets_a_cursor_and_resuming_finishes_the_same_plan() -> None:
    source = histories(*(version(f"k{i:03d}", "s", latest=True) for i in range(0, 100, 2)))
    target = histories(*(version(f"k{i:03d}", "t", latest=True) for i in range(100)))
    whole, _ = run(source, target)

    # When the diff is stopped after every 7 keys and resumed after its cursor's key
    pieces: list[PlannedEntry] = []
    after: str | None = None
    for _ in range(1000):
        stats = DiffStats()
        calls = iter(range(1, 10_000))
        src = [h for h in source if after is None or h.key > after]
        tgt = [h for h in target if after is None or h.key > after]
        pieces += (
            c.planned
            for c in diff_histories(
                iter(src),
                iter(tgt),
                DiffPolicy(Mode.DATASYNC, ALL_RULES),
                stats,
                start_after_key=after,
                should_stop=lambda calls=calls: next(calls) % 7 == 0,  # type: ignore[misc]
            )
        )
        if stats.cursor is None:
            break
        assert not stats.cursor.target.exhausted
        after = stats.cursor.after_key

    assert purged(pieces) == purged(whole)
    assert len(pieces) == len(whole) == 50


def test_cursor_marks_an_exhausted_side() -> None:
    source = histories(*(version(f"k{i}", "s", latest=True) for i in range(5)))
    target = histories(version("k0", "t", latest=True))
    stats = DiffStats()

    list(
        diff_histories(
            iter(source),
            iter(target),
            DiffPolicy(Mode.DATASYNC, ALL_RULES),
            stats,
            should_stop=lambda: True,
        )
    )

    assert stats.cursor is not None
    assert stats.cursor.after_key == "k0"
    assert stats.cursor.target.exhausted
    assert not stats.cursor.source.exhausted


def test_stats_count_every_entry_on_both_sides() -> None:
    source = histories(
        version("a", "1", latest=True), version("a", "2"), version("z", "3", latest=True)
    )
    target = histories(
        version("a", "4", latest=True), marker("m", "5", latest=True), version("m", "6")
    )

    _, stats = run(source, target)

    assert (stats.source_entries, stats.target_entries) == (3, 3)
