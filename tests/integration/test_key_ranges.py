"""Key-range work items: a scope cut into ranges plans exactly what one listing plans.

Random bucket histories (the invariants' own, tests/integration/bucket_histories.py) are
diffed once over the whole scope and once per range between random boundaries, real keys
and keys that name nothing alike, with tiny pages so that ranges start and end mid-page.
Every planned entry, every proof and skip, and every listing figure must match. The same
holds when items stop at random moments (a slice's time limit: resumed from the cursor,
inside a key or not) and hand the rest of their range back at random moments, re-cut at
random boundaries into the next wave's pieces (`workflow.recut`), wave after wave (the
product sets no last wave; an example stops handing back after EXAMPLE_WAVES).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings, target
from hypothesis import strategies as st
from moto import mock_aws
from moto.s3 import models as moto_s3

from syncpurge.core.diff import DiffCursor, DiffStats
from syncpurge.core.keyspace import KeyRange, ranges_between
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.models import PlannedEntry, ReconcileRequest
from syncpurge.phases.diffing import NullProgress, diff_scope, policy_for
from syncpurge_local.moto_s3 import s3_paging
from tests.conftest import property_examples
from tests.helpers import kms_etags, make_versioned_bucket, moto_s3_client
from tests.integration.bucket_histories import KEYS, SCOPE, World, operation

pytestmark = pytest.mark.integration

# Boundaries: the keys themselves, and strings between and around them.
CUTS = sorted({*KEYS, "a", "a.txt0", "a.txt.bak0", "b", "dir/", "dir/x/", "dir/x/y0", "zz"})


@contextmanager
def history(monkeypatch: pytest.MonkeyPatch, ops: list[tuple[Any, ...]]) -> Iterator[World]:
    """Both buckets on moto (paging as S3 does, KMS ETags), after the random history."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(moto_s3, "S3_UPLOAD_PART_MIN_SIZE", 1)
    with mock_aws(), s3_paging(), kms_etags():
        world = World(moto_s3_client())
        make_versioned_bucket(world.client, world.source)
        make_versioned_bucket(world.client, world.target)
        for op in ops:
            world.apply(op)
        yield world


def differ(world: World, page_size: int, planned: list[PlannedEntry]) -> Callable[..., DiffStats]:
    """diff_scope over the world's buckets and scope, its plan into `planned`."""
    store = S3Store(world.client, RequestCounter(), page_size=page_size)
    policy = policy_for(
        ReconcileRequest.model_validate({}), datetime.now(UTC), lineage=world.lineage.lookup
    )
    return functools.partial(
        diff_scope,
        source=store,
        target=store,
        source_bucket=world.source,
        target_bucket=world.target,
        prefix="",
        policy=policy,
        on_plan=planned.append,
        progress=NullProgress(),
        scope=SCOPE,
    )


def plan_of(world: World, page_size: int, boundaries: list[str]) -> tuple[list[Any], list[int]]:
    planned: list[PlannedEntry] = []
    diff = differ(world, page_size, planned)
    figures = [0, 0, 0]
    for part in ranges_between(boundaries):
        stats = diff(key_range=part)
        figures = [
            figures[0] + stats.source_entries,
            figures[1] + stats.target_entries,
            figures[2] + stats.keys_in_both,
        ]
    # A range's first keys name its start as their source predecessor (no source key lies
    # between), where one listing names the source key before it: both start a verify
    # listing that reaches the key first.
    assert all(
        p.source_predecessor is None or p.source_predecessor < p.mapped_source_key for p in planned
    )
    rows = [(p.entry.key, p.entry.version_id, p.rule, p.proof, p.skip) for p in planned]
    return rows, figures


@settings(
    max_examples=property_examples(8),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(
    ops=[
        ("put", "a.txt", "1"),
        ("stray_target_put", "\u00e9", "1"),
        ("put", "a.txt", "1"),
        ("sync", False),
        ("stray_target_put", "\u00e9", "1"),
    ],
    page_size=2,
    boundaries=["a.txt"],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=25),
    page_size=st.integers(1, 4),
    boundaries=st.lists(st.sampled_from(CUTS), max_size=6, unique=True).map(sorted),
)
def test_ranges_plan_exactly_what_one_listing_plans(
    monkeypatch: pytest.MonkeyPatch,
    ops: list[tuple[Any, ...]],
    page_size: int,
    boundaries: list[str],
) -> None:
    with history(monkeypatch, ops) as world:
        whole, whole_figures = plan_of(world, page_size, [])
        cut, cut_figures = plan_of(world, page_size, boundaries)

    # Then the same entries are planned, with the same rules, proofs and skips, and every
    # entry is counted once. Keys come in the same order; within a key, the order is the
    # listing page's: boto3 hands a page's versions and delete markers over as two arrays,
    # so where a page ends decides how a key's markers and versions interleave (the deep
    # profile found a two-version key with a marker between them). Nothing depends on it:
    # a key's current entry goes last by IsLatest, not by position.
    assert [row[0] for row in cut] == [row[0] for row in whole]
    assert sorted(cut, key=str) == sorted(whole, key=str)
    assert cut_figures == whole_figures


def after_calls(calls: int | None) -> Any:
    """A should_stop / should_hand_back that says yes from its `calls`-th question on."""
    if calls is None:
        return None
    asked = [0]

    def ask() -> bool:
        asked[0] += 1
        return asked[0] > calls

    return ask


# Waves an example re-cuts for: any hand-back may come at the first key.
EXAMPLE_WAVES = 6


def recut_plan(
    world: World, page_size: int, boundaries: list[str], data: st.DataObject
) -> tuple[list[Any], list[int], int]:
    """The plan of items cut at `boundaries`, each stopping and handing back at random
    moments, its remainder re-cut at random keys, wave after wave (the pieces queue up
    behind the wave, as the state machine runs them); and how many items handed back."""
    planned: list[PlannedEntry] = []
    diff = differ(world, page_size, planned)
    figures = [0, 0, 0]
    queue = [(part, 0) for part in ranges_between(boundaries)]
    handed_back = 0
    while queue:
        part, wave = queue.pop(0)
        cursor: DiffCursor | None = None
        while True:
            stop = data.draw(st.one_of(st.none(), st.integers(0, 4)), label="stop after")
            hand = data.draw(st.one_of(st.none(), st.integers(0, 4)), label="hand back after")
            stats = diff(
                key_range=part,
                resume=cursor,
                should_stop=after_calls(stop),
                # (the product has no last wave; a few keep each example finite)
                should_hand_back=after_calls(hand) if wave < EXAMPLE_WAVES else None,
            )
            figures = [
                figures[0] + stats.source_entries,
                figures[1] + stats.target_entries,
                figures[2] + stats.keys_in_both,
            ]
            cursor = stats.cursor
            if cursor is None:
                break
            if stats.handed_back:
                # Then the cursor is between keys: the rest of the range is untouched
                assert cursor.inside is None
                handed_back += 1
                rest = KeyRange(cursor.after_key, part.up_to)
                inside = [c for c in CUTS if rest.holds(c) and c != rest.up_to]
                cuts = (
                    data.draw(st.lists(st.sampled_from(inside), max_size=3, unique=True))
                    if inside
                    else []
                )
                queue += [(piece, wave + 1) for piece in ranges_between(sorted(cuts), rest)]
                break
    rows = [(p.entry.key, p.entry.version_id, p.rule, p.proof, p.skip) for p in planned]
    return rows, figures, handed_back


@settings(
    max_examples=property_examples(8),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=25),
    page_size=st.integers(1, 4),
    boundaries=st.lists(st.sampled_from(CUTS), max_size=4, unique=True).map(sorted),
    data=st.data(),
)
def test_random_recuts_at_random_moments_plan_exactly_what_one_listing_plans(
    monkeypatch: pytest.MonkeyPatch,
    ops: list[tuple[Any, ...]],
    page_size: int,
    boundaries: list[str],
    data: st.DataObject,
) -> None:
    with history(monkeypatch, ops) as world:
        whole, whole_figures = plan_of(world, page_size, [])
        recut, recut_figures, handed_back = recut_plan(world, page_size, boundaries, data)

    # Then every entry is planned once, as one listing plans it, and counted once
    assert sorted(recut, key=str) == sorted(whole, key=str)
    assert recut_figures == whole_figures
    # And each key's entries were planned together, by one item
    keys = [row[0] for row in recut]
    for key in set(keys):
        at = [i for i, k in enumerate(keys) if k == key]
        assert at == list(range(at[0], at[-1] + 1)), key
    target(float(handed_back), label="items handed back")


def test_a_range_lists_from_its_start_and_stops_after_its_end(aws: None) -> None:
    # Given 30 keys in one prefix and a range over 10 of them, with 4-entry pages
    client = boto3.client("s3", region_name="us-east-1")
    for bucket in ("rng-src", "rng-dst"):
        make_versioned_bucket(client, bucket)
        for i in range(30):
            client.put_object(Bucket=bucket, Key=f"data/{i:02d}", Body=b"x")
    store = S3Store(client, RequestCounter(), page_size=4)
    policy = policy_for(ReconcileRequest.model_validate({}), datetime.now(UTC))

    stats = diff_scope(
        source=store,
        target=store,
        source_bucket="rng-src",
        target_bucket="rng-dst",
        prefix="data/",
        policy=policy,
        on_plan=lambda _p: None,
        progress=NullProgress(),
        key_range=ranges_between(["data/09", "data/19"])[1],
    )

    # Then exactly its 10 keys are counted, and each side read 3 pages, not 8
    assert (stats.source_entries, stats.target_entries, stats.keys_in_both) == (10, 10, 10)
    assert store.counter.snapshot().list == 6
