"""DESIGN §4 invariants on random bucket histories (hypothesis).

(A) Whole runs on moto: random puts, soft deletes, permanent (version) deletes and
DataSync-like copies build a source and a target; a run with tiny listing pages must plan
exactly what a straightforward reference model computes, destroy nothing the source still
holds, leave the source untouched, and leave nothing for a second run.
(B) The pure diff in both modes, on random histories split into random pages.
"""

from __future__ import annotations

import itertools
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from syncpurge.diff import DiffPolicy, DiffStats, diff_histories
from syncpurge.listing import key_histories
from syncpurge.models import Entry, Mode, Rule
from syncpurge.s3store import ListingPage
from tests.helpers import BucketPair, make_versioned_bucket, run_engine

pytestmark = pytest.mark.integration

# Keys chosen to collide on prefixes and to need exact, byte-for-byte handling.
KEYS = ["a.txt", "a.txt.bak", "a b", "a+b", "a%20b", "\u00e9", "e\u0301", "dir/x", "dir/x/y", "z"]
BODIES = ["1", "2", "22"]  # few bodies: content identity collides across versions

operation = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.sampled_from(BODIES)),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
    st.tuples(st.just("delete_version"), st.sampled_from(KEYS), st.integers(0, 5)),
    st.tuples(st.just("sync")),
    st.tuples(st.just("stray_target_put"), st.sampled_from(KEYS), st.sampled_from(BODIES)),
)

Listed = dict[str, list[dict[str, Any]]]


def listing(client: Any, bucket: str) -> Listed:
    """key -> entries, read independently of the library (one big page each)."""
    by_key: Listed = defaultdict(list)
    response = client.list_object_versions(Bucket=bucket)
    for v in response.get("Versions", []):
        by_key[v["Key"]].append({**v, "marker": False})
    for m in response.get("DeleteMarkers", []):
        by_key[m["Key"]].append({**m, "marker": True})
    return dict(by_key)


def reference_plan_datasync(source: Listed, target: Listed, prefix: str) -> set[tuple[str, str]]:
    plan: set[tuple[str, str]] = set()
    for key, entries in target.items():
        if not key.startswith(prefix):
            continue
        held = source.get(key, [])
        for t in entries:
            if not held:
                plan.add((key, t["VersionId"]))
            elif t["IsLatest"]:
                continue
            elif t["marker"]:
                if not any(s["marker"] for s in held):
                    plan.add((key, t["VersionId"]))
            elif not any(
                not s["marker"] and (s["Size"], s["ETag"]) == (t["Size"], t["ETag"]) for s in held
            ):
                plan.add((key, t["VersionId"]))
    return plan


def apply(pair: BucketPair, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "put":
        pair.put(op[1], op[2])
    elif kind == "delete":
        pair.soft_delete(op[1])
    elif kind == "delete_version":
        history = sorted(e for e in pair.entries(pair.source, prefix=op[1]) if e[0] == op[1])
        if history:
            pair.delete_version(op[1], history[op[2] % len(history)][1])
    elif kind == "sync":
        pair.sync()
    else:
        pair.put(op[1], op[2], bucket=pair.target)


# Each example is two whole runs on moto (~4 ms a request), so this property takes half the
# profile's examples: 100 in CI, 10,000 with --hypothesis-profile deep.
@settings(
    max_examples=max(1, settings.default.max_examples // 2),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=20),
    prefix=st.sampled_from(["", "a", "dir/", "a.txt"]),
    page_size=st.integers(2, 5),
)
def test_runs_on_random_histories_keep_every_invariant(
    monkeypatch: pytest.MonkeyPatch, ops: list[tuple[Any, ...]], prefix: str, page_size: int
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), tempfile.TemporaryDirectory() as tmp:
        client = boto3.client("s3", region_name="us-east-1")
        pair = BucketPair(client, "prop-src", "prop-dst")
        make_versioned_bucket(client, pair.source)
        make_versioned_bucket(client, pair.target)
        for op in ops:
            apply(pair, op)
        source_before, target_before = listing(client, pair.source), listing(client, pair.target)
        expected = reference_plan_datasync(source_before, target_before, prefix)
        request = {"maxPurgeFraction": 1.0, "prefixes": [prefix]}

        result, lines = run_engine(pair, Path(tmp) / "1", request, page_size=page_size)

        # 5. completeness: every entry in scope seen once; the plan is the reference's
        in_scope = [e for k, es in target_before.items() if k.startswith(prefix) for e in es]
        assert result.summary.totals.target_entries == len(in_scope)
        purged = {(line["key"], line["versionId"]) for line in lines if line["outcome"] == "purged"}
        assert {(line["key"], line["versionId"]) for line in lines} == expected
        assert purged == expected
        # 1. nothing the source holds is destroyed; a current entry only if its key vanished
        for key, version_id in purged:
            held = source_before.get(key, [])
            gone = next(e for e in target_before[key] if e["VersionId"] == version_id)
            if not gone["marker"]:
                assert not any(
                    not s["marker"] and (s["Size"], s["ETag"]) == (gone["Size"], gone["ETag"])
                    for s in held
                )
            if gone["IsLatest"]:
                assert held == []
        # 2. the source is untouched
        assert listing(client, pair.source) == source_before
        # 4. exact keys: nothing outside the plan changed in the target
        after = {(k, e["VersionId"]) for k, es in listing(client, pair.target).items() for e in es}
        before = {(k, e["VersionId"]) for k, es in target_before.items() for e in es}
        assert after == before - expected
        # 3. fixpoint
        again, again_lines = run_engine(pair, Path(tmp) / "2", request, page_size=page_size)
        assert again.summary.totals.planned == 0
        assert again_lines == []


# --------------------------------------------------------------------------- (B) pure diff

VIDS = [f"v{i}" for i in range(6)]
ETAGS = ['"e1"', '"e2"', '"m1-2"']  # one multipart
SIZES = [1, 2]


@st.composite
def key_entries(draw: st.DrawFn, key: str) -> list[Entry]:
    from datetime import UTC, datetime

    count = draw(st.integers(0, 4))
    vids = draw(st.lists(st.sampled_from(VIDS), min_size=count, max_size=count, unique=True))
    entries = []
    for i, vid in enumerate(vids):
        marker = draw(st.booleans())
        at = datetime(2026, 1, 1, tzinfo=UTC)
        if marker:
            entries.append(Entry(key, vid, i == 0, at, True))
        else:
            entries.append(
                Entry(
                    key,
                    vid,
                    i == 0,
                    at,
                    False,
                    draw(st.sampled_from(SIZES)),
                    draw(st.sampled_from(ETAGS)),
                )
            )
    return entries


@st.composite
def bucket(draw: st.DrawFn) -> list[Entry]:
    return [e for key in sorted(KEYS) for e in draw(key_entries(key))]


def paged(entries: list[Entry], cuts: list[int]) -> list[ListingPage]:
    bounds = sorted({0, len(entries), *(c % (len(entries) + 1) for c in cuts)})
    return [ListingPage(entries[a:b], [], True) for a, b in itertools.pairwise(bounds)]


def reference(source: list[Entry], target: list[Entry], mode: Mode) -> tuple[set[str], set[str]]:
    """(purge, unverifiable) VersionIds+keys by the plain words of DESIGN §3."""
    purge: set[str] = set()
    unverifiable: set[str] = set()
    for t in target:
        held = [s for s in source if s.key == t.key]
        ident = f"{t.key}/{t.version_id}"
        if not held:
            purge.add(ident)
        elif mode is Mode.REPLICATION:
            if t.version_id not in {s.version_id for s in held}:
                purge.add(ident)
        elif t.is_latest:
            continue
        elif t.is_delete_marker:
            if not any(s.is_delete_marker for s in held):
                purge.add(ident)
        else:
            versions = [s for s in held if not s.is_delete_marker]
            if any(
                "-" not in (t.etag or "-") and (s.size, s.etag) == (t.size, t.etag)
                for s in versions
            ):
                continue
            if any(
                s.size == t.size and ("-" in (s.etag or "-") or "-" in (t.etag or "-"))
                for s in versions
            ):
                unverifiable.add(ident)
            else:
                purge.add(ident)
    return purge, unverifiable


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
        diff_histories(
            key_histories(paged(source, source_cuts)),
            key_histories(paged(target, target_cuts)),
            DiffPolicy(mode, frozenset(Rule)),
            stats,
        )
    )

    purge = {f"{p.entry.key}/{p.entry.version_id}" for p in plan if p.to_purge}
    skipped = {f"{p.entry.key}/{p.entry.version_id}" for p in plan if not p.to_purge}
    assert (purge, skipped) == reference(source, target, mode)
    assert (stats.source_entries, stats.target_entries) == (len(source), len(target))
    # Invariant 1 stated directly: never purge what the source still holds
    for p in plan:
        if not p.to_purge:
            continue
        held = [s for s in source if s.key == p.entry.key]
        if mode is Mode.REPLICATION:
            assert p.entry.version_id not in {s.version_id for s in held}
        else:
            assert not (p.entry.is_latest and held)
            assert not any(
                not s.is_delete_marker
                and "-" not in (s.etag or "-")
                and (s.size, s.etag) == (p.entry.size, p.entry.etag)
                for s in held
            )
