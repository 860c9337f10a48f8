"""docs/design.md §4 invariants on random bucket histories (hypothesis).

(A) Whole runs on moto. Random puts (plain, per-object SSE-KMS, multipart), soft deletes,
permanent (version) deletes, stray target writes (seeded copies, objects written at the
target), keys outside the scope, and DataSync-like copies (with folder objects, recording
lineage as Enhanced- or Basic-mode task reports do, the latter without ETags; writes share
a second unless a tick parts them) build a source and a target
(tests/integration/bucket_histories.py).
A run with tiny listing pages must plan exactly what an independent reference model (there
too) computes from the raw listings and the ground truth of every version's body; it must
destroy nothing the source still holds (1),
never write the source (2), leave nothing for a second run (3), keep exact keys (4), see
every entry (5) and never plan outside the scope (7); an unrelated source is refused.
The pure diff's properties are in tests/unit/test_diff_properties.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from syncpurge.core.lineage import LineageIndex
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.models import ReconcileRequest
from syncpurge.phases.report import read_entries_lines
from tests.conftest import property_examples
from tests.engine_runs import engine_policy, engine_run, task_reports
from tests.integration.bucket_histories import (
    SCOPE,
    World,
    empty_world,
    listing,
    operation,
    reference,
)

pytestmark = pytest.mark.integration


def run(world: World, tmp: Path, page_size: int, **extra: Any) -> tuple[Any, list[dict[str, Any]]]:
    counter = RequestCounter()
    store = S3Store(world.client, counter, page_size=page_size)
    request = ReconcileRequest.model_validate({"maxPurgeFraction": 1.0, **extra})
    policy = engine_policy(world.source, world.target, request, scope=SCOPE)
    if len(world.lineage):
        policy = dataclasses.replace(policy, lineage=task_reports(world.client, world.lineage))
    result = engine_run(policy, source=store, target=store, report=tmp)
    return result, list(read_entries_lines(tmp / result.summary.run_id))


# Each example is two whole runs on moto (~4 ms a request), so this property takes half the
# profile's examples: 100 in CI, 10,000 with --hypothesis-profile deep.
@settings(
    max_examples=property_examples(2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Issue 17, defect 1: A is copied, written again and superseded by B before the next
# sync (never copied), then the copied version is deleted: the target's copy of A stays.
@example(
    ops=[
        ("put_kms", "a.txt", "1"),
        ("sync", False),
        ("rewrite", "a.txt", "1", "2", True),
        ("delete_oldest", "a.txt"),
        ("sync", False),
    ],
    page_size=2,
    reports=True,
    basic=False,
)
@example(
    ops=[
        ("put", "a.txt", "m" * 40),
        ("sync", False),
        ("rewrite", "a.txt", "m" * 40, "2", False),
        ("delete_oldest", "a.txt"),
        ("sync", False),
    ],
    page_size=3,
    reports=True,
    basic=False,
)
# Issue 2, defect 2: A copied; a tick; C (A's size) copied, then A again in C's second and
# superseded before the next sync; A's first version and C's deleted. C's Basic-mode record
# names the surviving A by size and second: no proof that A has a copy of its own.
@example(
    ops=[
        ("put_kms", "a.txt", "1"),
        ("sync", False),
        ("tick",),
        ("put_kms", "a.txt", "2"),
        ("sync", False),
        ("rewrite", "a.txt", "1", "22", True),
        ("sync", False),
        ("delete_oldest", "a.txt"),
        ("delete_oldest", "a.txt"),
    ],
    page_size=2,
    reports=True,
    basic=True,
)
@given(
    ops=st.lists(operation, min_size=1, max_size=30),
    page_size=st.integers(2, 5),
    reports=st.booleans(),
    basic=st.booleans(),
)
def test_runs_on_random_histories_keep_every_invariant(
    monkeypatch: pytest.MonkeyPatch,
    ops: list[tuple[Any, ...]],
    page_size: int,
    reports: bool,
    basic: bool,
) -> None:
    with empty_world(monkeypatch) as (world, tmp):
        world.basic = basic  # a Basic-mode task: records without ETags
        for op in ops:
            world.apply(op)
        if not reports:  # a task without STANDARD reports: no lineage at all
            world.lineage = LineageIndex()
            world.copied_from.clear()
        source_before = listing(world.client, world.source)
        target_before = listing(world.client, world.target)
        expected_purge, expected_skip = reference(world, source_before, target_before)

        result, lines = run(world, tmp / "1", page_size)

        in_scope_target = [e for k, es in target_before.items() if SCOPE.admits(k) for e in es]
        in_scope_source = [e for k, es in source_before.items() if SCOPE.admits(k) for e in es]
        common = {k for k in source_before if SCOPE.admits(k)} & {
            k for k in target_before if SCOPE.admits(k)
        }
        if in_scope_target and (not in_scope_source or not common):
            # An empty or unrelated source is refused, whatever else is planned
            assert result.refusal is not None
            assert listing(world.client, world.target) == target_before
            event("refused: unrelated source")
            return
        # 5. completeness: every entry in scope seen once; the plan is the reference's
        assert result.summary.totals.target_entries == len(in_scope_target)
        purged = {(line["key"], line["versionId"]) for line in lines if line["outcome"] == "purged"}
        skipped = {
            (line["key"], line["versionId"]) for line in lines if line["outcome"] == "skipped"
        }
        assert purged == expected_purge
        assert skipped == expected_skip
        for line in lines:
            event(f"outcome {line['outcome']} {line['proof'] or line['reason']}")
        # 7. nothing outside the scope is planned
        assert all(SCOPE.admits(line["key"]) for line in lines)
        after = listing(world.client, world.target)
        # 1. every content a source version of a key holds, and a target version of the key
        # held before the run, is still held by a target version of the key (no exemption)
        for key, entries in target_before.items():

            def bodies(listed: list[dict[str, Any]]) -> set[str]:
                return {world.body[e["VersionId"]] for e in listed if not e["marker"]}

            still_held = bodies(source_before.get(key, [])) & bodies(entries)
            assert still_held <= bodies(after.get(key, [])), key
        source_vids = {e["VersionId"] for es in source_before.values() for e in es}
        # 1, per version: a target copy of a source version that still exists is kept
        kept = {e["VersionId"] for es in after.values() for e in es}
        listed_before = {e["VersionId"] for es in target_before.values() for e in es}
        for target_vid, source_vid in world.copied_from.items():
            if target_vid in listed_before and source_vid in source_vids:
                assert target_vid in kept
        # 2. the source is untouched
        assert listing(world.client, world.source) == source_before
        # 4. exact keys: nothing outside the plan changed in the target
        after_ids = {(k, e["VersionId"]) for k, es in after.items() for e in es}
        before_ids = {(k, e["VersionId"]) for k, es in target_before.items() for e in es}
        assert after_ids == before_ids - expected_purge
        # 3. fixpoint: nothing left to purge (what was skipped stays skipped)
        again, again_lines = run(world, tmp / "2", page_size, allowUnrelatedSource=True)
        assert again.summary.totals.planned == 0
        assert {line["outcome"] for line in again_lines} <= {"skipped"}
