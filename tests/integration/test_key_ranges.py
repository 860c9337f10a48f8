"""Key-range work items: a scope cut into ranges plans exactly what one listing plans.

Random bucket histories (the invariants' own, tests/integration/bucket_histories.py) are
diffed once over the whole scope and once per range between random boundaries, real keys
and keys that name nothing alike, with tiny pages so that ranges start and end mid-page.
Every planned entry, every proof and skip, and every listing figure must match.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.s3 import models as moto_s3

from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.diffing import NullProgress, diff_scope, policy_for
from syncpurge.keyspace import ranges_between
from syncpurge.models import PlannedEntry, ReconcileRequest
from syncpurge_local.moto_s3 import s3_paging
from tests.conftest import property_examples
from tests.helpers import kms_etags, make_versioned_bucket
from tests.integration.bucket_histories import KEYS, SCOPE, World, operation

pytestmark = pytest.mark.integration

# Boundaries: the keys themselves, and strings between and around them.
CUTS = sorted({*KEYS, "a", "a.txt0", "a.txt.bak0", "b", "dir/", "dir/x/", "dir/x/y0", "zz"})


def plan_of(world: World, page_size: int, boundaries: list[str]) -> tuple[list[Any], list[int]]:
    store = S3Store(world.client, RequestCounter(), page_size=page_size)
    policy = policy_for(
        ReconcileRequest.model_validate({}),
        datetime.now(UTC),
        lineage=world.lineage.lookup,
    )
    planned: list[PlannedEntry] = []
    figures = [0, 0, 0]
    for part in ranges_between(boundaries):
        stats = diff_scope(
            source=store,
            target=store,
            source_bucket=world.source,
            target_bucket=world.target,
            prefix="",
            policy=policy,
            on_plan=planned.append,
            progress=NullProgress(),
            scope=SCOPE,
            key_range=part,
        )
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
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(moto_s3, "S3_UPLOAD_PART_MIN_SIZE", 1)
    with mock_aws(), s3_paging(), kms_etags():
        world = World(boto3.client("s3", region_name="us-east-1"))
        make_versioned_bucket(world.client, world.source)
        make_versioned_bucket(world.client, world.target)
        for op in ops:
            world.apply(op)

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
