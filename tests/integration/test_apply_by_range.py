"""Applying a stored plan at listing cost (issue 29): each asked key's fresh plan is read
off range listings (`syncpurge.phases.apply_ranges.RangeFresh`), not off two listings a key.

On random histories, the range re-check plans every asked key exactly as a listing of that
key alone does, whatever the page size and however often a range stops for a gap. On a
dense plan it costs about what a fresh run lists; on a sparse one a bounded few LISTs a key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import ListingPage, RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.errors import ListingFailed
from syncpurge.models import PlannedEntry, ReconcileRequest
from syncpurge.phases.apply import PairAccess, fresh_plan
from syncpurge.phases.apply_ranges import GAP_PAGES, RangeFresh
from syncpurge.phases.diffing import policy_for
from tests.conftest import property_examples
from tests.engine_runs import applying_request, engine_policy, engine_run
from tests.helpers import BucketPair
from tests.integration.bucket_histories import KEYS, OUTSIDE, SCOPE, operation
from tests.integration.test_key_ranges import history

pytestmark = pytest.mark.integration


def rows(planned: list[PlannedEntry]) -> list[tuple[str, ...]]:
    return [
        (p.entry.key, p.entry.version_id, str(p.rule), str(p.proof), str(p.skip)) for p in planned
    ]


@settings(
    max_examples=property_examples(8),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=25),
    page_size=st.integers(1, 4),
    gap=st.integers(0, 6),
    asked=st.lists(st.sampled_from(KEYS + OUTSIDE), unique=True).map(sorted),
)
def test_a_range_re_check_plans_each_asked_key_as_its_own_listing_does(
    monkeypatch: pytest.MonkeyPatch,
    ops: list[tuple[Any, ...]],
    page_size: int,
    gap: int,
    asked: list[str],
) -> None:
    with history(monkeypatch, ops) as world:
        store = S3Store(world.client, RequestCounter(), page_size=page_size)
        policy = policy_for(
            ReconcileRequest.model_validate({}), datetime.now(UTC), lineage=world.lineage.lookup
        )
        access = PairAccess(store, store, world.source, world.target, policy, SCOPE)
        one_key = fresh_plan(access)
        by_range = RangeFresh(access, [""], gap=gap)
        try:
            for key in (SCOPE.target_key(k) for k in asked if SCOPE.admits(k)):
                # the order within a key may differ (a long key's segments); re-checks look
                # entries up by VersionId
                assert sorted(rows(by_range(key))) == sorted(rows(one_key(key))), key
        finally:
            by_range.close()


PAGE = 100


def lists_of(
    pair: BucketPair, report: Path, run_id: str, request: dict[str, Any]
) -> tuple[int, dict]:
    """Run `run_id` of the engine, pages of PAGE entries, its report under `report`: its
    LISTs and its totals."""
    store = S3Store(pair.client, RequestCounter(), page_size=PAGE)
    parsed = ReconcileRequest.model_validate(request)
    plan_run = request.get("applyPlan")
    if plan_run:
        parsed = applying_request(parsed, report, plan_run, store)
    result = engine_run(
        engine_policy(pair.source, pair.target, parsed),
        source=store,
        target=store,
        report=report,
        run_id=run_id,
    )
    summary = result.summary
    assert summary.error is None, summary.error
    return summary.requests.list, summary.totals.model_dump()


@pytest.mark.parametrize(
    ("keys", "every", "most_per_key"),
    # a sparse plan's key: its own 2 LISTs, and the GAP_PAGES pages (both sides) a range
    # reads before it stops, each side's page under way and one prefetched
    [(3_000, 10, None), (6_000, 2_999, 2 + GAP_PAGES + 4)],
    ids=["dense plan", "sparse plan"],
)
def test_applying_a_plan_lists_about_what_a_fresh_run_lists(
    pair: BucketPair, tmp_path: Path, keys: int, every: int, most_per_key: int | None
) -> None:
    # Given a target with `keys` keys, every `every`-th of them gone from the source
    for n in range(keys):
        key = f"k/{n:06d}"
        pair.client.put_object(Bucket=pair.target, Key=key, Body=b"x")
        if n % every:
            pair.client.put_object(Bucket=pair.source, Key=key, Body=b"x")
    limits = {"maxPurgeFraction": 1}
    fresh_lists, planned = lists_of(pair, tmp_path, "dry", {**limits, "dryRun": True})
    gone = len(range(0, keys, every))
    assert planned["planned"] == gone

    # When that dry run's plan is applied
    applied_lists, totals = lists_of(pair, tmp_path, "apply", {**limits, "applyPlan": "dry"})

    # Then every planned entry went, at about a fresh run's listing cost (verify included)
    assert (totals["purged"], totals["skipped"]) == (gone, 0)
    print(f"LISTs: dry run {fresh_lists}, plan applied {applied_lists}, {gone} keys planned")
    assert applied_lists <= 1.5 * fresh_lists, (applied_lists, fresh_lists)
    if most_per_key is not None:  # a sparse plan: a few LISTs a key, never the whole range
        assert applied_lists <= most_per_key * gone, (applied_lists, gone)


class FailingAround(S3Store):
    """A store whose every listing that would return `key` fails, as a key no listing
    can return (tests/integration/test_unlistable_keys.py) fails after its retries."""

    def __init__(self, key: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key, self.failures = key, 0

    def list_pages(self, bucket: str, prefix: str, **where: Any) -> Iterator[ListingPage]:
        for page in super().list_pages(bucket, prefix, **where):
            if any(e.key == self.key for e in page.entries):
                self.failures += 1
                raise ListingFailed("ListObjectVersions", "InternalError", self.key)
            yield page


def test_a_key_no_range_can_list_costs_one_failed_range_not_one_a_key(
    pair: BucketPair,
) -> None:
    # Given 50 planned keys that sort before a key no listing can return
    for n in range(50):
        pair.client.put_object(Bucket=pair.target, Key=f"k{n:03d}", Body=b"x")
    pair.client.put_object(Bucket=pair.target, Key="k500-unlistable", Body=b"x")
    pair.client.put_object(Bucket=pair.source, Key="live", Body=b"x")
    store = FailingAround("k500-unlistable", pair.client, RequestCounter())
    policy = policy_for(ReconcileRequest.model_validate({}), datetime.now(UTC))
    fresh = RangeFresh(PairAccess(store, store, pair.source, pair.target, policy, Scope()), [""])

    # When each is re-checked
    try:
        planned = [fresh(f"k{n:03d}") for n in range(50)]
    finally:
        fresh.close()

    # Then every key is still planned, and only the first range paid a failed listing
    assert all(len(p) == 1 and p[0].to_purge for p in planned)
    assert store.failures == 1
