"""Resuming a stopped diff from its cursor, and verify-before-destroy's LIST budget, on moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncpurge.core import listing
from syncpurge.core.diff import DiffCursor
from syncpurge.core.rules import DiffPolicy
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.models import Mode, PlannedEntry, Rule
from syncpurge.phases.diffing import NullProgress, diff_scope
from syncpurge.phases.verify import VanishedKeyVerifier, VanishedRef, Verdict
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration


def plan_in_slices(
    pair: BucketPair,
    stop_every: int,
    page_size: int,
    *,
    cursors: list[DiffCursor] | None = None,
    into: list[PlannedEntry] | None = None,
) -> tuple[list[Any], int]:
    store = S3Store(pair.client, RequestCounter(), page_size=page_size)
    policy = DiffPolicy(Mode.DATASYNC, frozenset(Rule), datetime.now(UTC))
    plan: list[PlannedEntry] = [] if into is None else into
    cursor: DiffCursor | None = None
    slices = 0
    while True:
        slices += 1
        calls = iter(range(1, 1_000_000))
        stats = diff_scope(
            source=store,
            target=store,
            source_bucket=pair.source,
            target_bucket=pair.target,
            prefix="",
            policy=policy,
            on_plan=plan.append,
            progress=NullProgress(),
            resume=cursor,
            should_stop=(lambda calls=calls: next(calls) % stop_every == 0),  # type: ignore[misc]
        )
        if stats.cursor is None:
            # key_entries counts the whole key only on its current entry, which comes last
            return [
                (
                    p.entry.key,
                    p.entry.version_id,
                    p.rule,
                    p.skip,
                    p.entry.is_latest and p.key_entries,
                )
                for p in plan
            ], slices
        cursor = stats.cursor
        if cursors is not None:
            cursors.append(cursor)


def test_a_diff_resumed_from_its_cursors_plans_exactly_what_one_pass_plans(
    pair: BucketPair,
) -> None:
    # Given keys whose histories straddle pages, on both sides, with gaps on each side
    for i in range(40):
        key = f"k{i:02d}"
        if i % 3:
            pair.put(key, f"{i}-old")
            pair.put(key, f"{i}-new")
        if i % 4:
            for body in (f"{i}-old", f"{i}-gone", f"{i}-new"):
                pair.put(key, body, bucket=pair.target)
    whole, _ = plan_in_slices(pair, stop_every=10_000, page_size=1000)

    sliced, slices = plan_in_slices(pair, stop_every=3, page_size=4)

    assert slices > 5
    assert sorted(sliced) == sorted(whole)
    assert len(sliced) == len(set(sliced))


def long_key_story(pair: BucketPair) -> None:
    """A vanished key of 130 versions, a shared key with 90 orphans, short keys around."""
    pair.put("a-live", "x")
    pair.put("a-live", "x", bucket=pair.target)
    for n in range(130):
        pair.put("big-gone", f"v{n}", bucket=pair.target)
    pair.put("big-shared", "kept")
    for n in range(90):
        pair.put("big-shared", "o" * (n + 10), bucket=pair.target)  # sizes no source has
    pair.put("big-shared", "kept", bucket=pair.target)  # its current entry, synced
    pair.put("z-gone", "x", bucket=pair.target)


def test_a_diff_stops_inside_a_long_key_and_resumes_to_the_plan_of_one_pass(
    pair: BucketPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 8, defect 10: a Diff Lambda checked its time only between keys.
    long_key_story(pair)
    whole, _ = plan_in_slices(pair, stop_every=10_000, page_size=1000)
    monkeypatch.setattr(listing, "KEY_SEGMENT_ENTRIES", 20)
    cursors: list[DiffCursor] = []

    sliced, _ = plan_in_slices(pair, stop_every=1, page_size=7, cursors=cursors)

    stopped_inside = [c.inside.key for c in cursors if c.inside is not None]
    assert stopped_inside.count("big-gone") >= 6  # 130 entries in segments of 20
    assert stopped_inside.count("big-shared") >= 4
    assert sorted(sliced) == sorted(whole)
    assert len(sliced) == len(set(sliced))


def test_a_long_vanished_key_goes_whole_with_its_current_entry_last(
    pair: BucketPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_key_story(pair)
    monkeypatch.setattr(listing, "KEY_SEGMENT_ENTRIES", 20)

    planned: list[PlannedEntry] = []
    plan_in_slices(pair, stop_every=1, page_size=7, into=planned)

    big = [p for p in planned if p.entry.key == "big-gone"]
    assert len(big) == 130
    assert all(p.to_purge for p in big)
    assert big[-1].entry.is_latest  # the current entry comes last, counting the whole key
    assert big[-1].key_entries == 130
    assert not any(p.entry.is_latest for p in big[:-1])
    shared = [p for p in planned if p.entry.key == "big-shared"]
    assert len(shared) == 90
    assert not any(p.entry.is_latest for p in shared)


def gone(key: str, predecessor: str | None, content: bool = True) -> VanishedRef:
    return VanishedRef(key, predecessor, content)


def test_clustered_vanished_keys_share_one_list_and_reappearances_are_found(
    pair: BucketPair,
) -> None:
    for key in ("a-live", "z-live", "gone/0002"):
        pair.put(key)  # gone/0002 "reappeared" after the diff saw it vanished
    store = S3Store(pair.client, RequestCounter())
    verifier = VanishedKeyVerifier(store, pair.source)

    found = verifier.check([gone(f"gone/{i:04d}", "a-live") for i in range(500)])

    assert found == Verdict({"gone/0002"})
    assert store.counter.snapshot().verify == 1


def test_interleaved_vanished_keys_share_the_page_that_holds_them(pair: BucketPair) -> None:
    for i in range(0, 20, 2):
        pair.put(f"k{i:02d}")
    store = S3Store(pair.client, RequestCounter())
    vanished = [gone(f"k{i:02d}", f"k{i - 1:02d}") for i in range(1, 20, 2)]

    found = VanishedKeyVerifier(store, pair.source).check(vanished)

    assert found == Verdict()
    assert store.counter.snapshot().verify == 1


def test_scattered_vanished_keys_cost_a_page_per_page_of_source_not_one_per_key(
    pair: BucketPair,
) -> None:
    # Given one vanished key after every 4th of 120 live source keys, and 10-entry pages
    for i in range(120):
        pair.put(f"k{i:03d}")
    vanished = [gone(f"k{i:03d}x", f"k{i:03d}") for i in range(0, 120, 4)]
    pair.put("k040x")  # reappeared since the diff
    store = S3Store(pair.client, RequestCounter(), page_size=10)

    found = VanishedKeyVerifier(store, pair.source).check(vanished)

    # Then every key is answered, in about one page per 10 source entries (not 30 lists)
    assert found == Verdict({"k040x"})
    assert store.counter.snapshot().verify <= 13


def test_a_page_of_new_keys_before_a_vanished_key_is_read_past(pair: BucketPair) -> None:
    # Given more new keys between predecessor and vanished keys than one page holds
    for i in range(5):
        pair.put(f"d/zz0{i}")
    pair.put("d/zz2")
    store = S3Store(pair.client, RequestCounter(), page_size=3)

    found = VanishedKeyVerifier(store, pair.source).check([gone("d/zz1", "c"), gone("d/zz2", "c")])

    assert found == Verdict({"d/zz2"})
    assert store.counter.snapshot().verify == 2


def test_a_delete_marker_rides_on_its_keys_earlier_check_and_a_version_does_not(
    pair: BucketPair,
) -> None:
    pair.put("live")
    store = S3Store(pair.client, RequestCounter())
    verifier = VanishedKeyVerifier(store, pair.source)
    assert verifier.check([gone("v", "live")]) == Verdict()
    pair.put("v")  # reappears between the key's two batches

    markers = verifier.check([gone("v", "live", content=False)])
    versions = verifier.check([gone("v", "live", content=True)])

    # the marker holds no content and its key's version went first: no second listing
    assert markers == Verdict()
    # a version holds content: it is listed again, and the reappearance is caught
    assert versions == Verdict({"v"})
    assert store.counter.snapshot().verify == 2
