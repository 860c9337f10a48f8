"""Resuming a stopped diff from its cursor, and verify-before-destroy's LIST budget, on moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from syncpurge.diff import DiffCursor, DiffPolicy
from syncpurge.engine import NullProgress, diff_scope
from syncpurge.models import Mode, PlannedEntry, Rule
from syncpurge.s3store import RequestCounter, S3Store
from syncpurge.verify import VanishedKeyVerifier, cluster_prefix
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration


def plan_in_slices(pair: BucketPair, stop_every: int, page_size: int) -> tuple[list[Any], int]:
    store = S3Store(pair.client, RequestCounter(), page_size=page_size)
    policy = DiffPolicy(Mode.DATASYNC, frozenset(Rule), datetime.now(UTC))
    plan: list[PlannedEntry] = []
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
            return [(p.entry.key, p.entry.version_id, p.rule) for p in plan], slices
        cursor = stats.cursor


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


def test_cluster_prefix_excludes_the_predecessor() -> None:
    assert cluster_prefix("logs/2024/b", "logs/2024/a") == "logs/2024/b"
    assert cluster_prefix("gone/0001", "a") == "g"
    assert cluster_prefix("a/b", "a") == "a/"
    assert cluster_prefix("x", None) == "x"


def test_clustered_vanished_keys_share_one_list_and_reappearances_are_found(
    pair: BucketPair,
) -> None:
    for key in ("a-live", "z-live", "gone/0002"):
        pair.put(key)  # gone/0002 "reappeared" after the diff saw it vanished
    store = S3Store(pair.client, RequestCounter())
    verifier = VanishedKeyVerifier(store, pair.source)

    found = verifier.reappeared([(f"gone/{i:04d}", "a-live") for i in range(500)])

    assert found == {"gone/0002"}
    assert store.counter.snapshot().verify == 1


def test_interleaved_vanished_keys_cost_at_most_one_list_each(pair: BucketPair) -> None:
    for i in range(0, 20, 2):
        pair.put(f"k{i:02d}")
    store = S3Store(pair.client, RequestCounter())
    vanished = [(f"k{i:02d}", f"k{i - 1:02d}") for i in range(1, 20, 2)]

    found = VanishedKeyVerifier(store, pair.source).reappeared(vanished)

    assert found == set()
    assert store.counter.snapshot().verify <= len(vanished)


def test_a_page_of_new_keys_in_the_gap_falls_back_to_the_exact_key(pair: BucketPair) -> None:
    # Given more new keys between predecessor and vanished key than one page holds
    for i in range(5):
        pair.put(f"d/new{i}")
    pair.put("d/zz")
    store = S3Store(pair.client, RequestCounter(), page_size=3)

    found = VanishedKeyVerifier(store, pair.source).reappeared([("d/zz", "c")])

    assert found == {"d/zz"}
