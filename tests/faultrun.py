"""One seeded history, run fault-free and under injected faults (issue 8, docs/design.md §4).

The same random history is built in two bucket pairs on one moto server. Pair A is
reconciled through a proxy that injects nothing; pair B through one that injects the
faults of `tests.s3proxy`, then once more without faults. What each run did is kept for
the invariant checks (tests/integration/test_fault_injection.py) and for the docs'
reliability figures (`python -m tests.faultrun`).
"""

from __future__ import annotations

import json
import random
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from syncpurge.data.clients import make_s3_client
from tests.engine_runs import run_engine
from tests.helpers import BucketPair, make_versioned_bucket
from tests.s3proxy import FaultPlan, ProxyLog, s3_proxy

KEYS = ["a.txt", "a.txt.bak", "b/c", "b/c/d", "sp ace", "\u00e9t\u00e9", "x+y", "z%20"]
BODIES = ["1", "2", "33", "4444"]
REQUEST = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}
Signature = dict[str, tuple[tuple[str, ...], ...]]


def build_history(rng: random.Random, pairs: list[BucketPair], steps: int) -> None:
    """Apply the same random operations to every pair."""
    for _ in range(steps):
        op = rng.choice(["put", "put", "delete", "delete_version", "purge", "stray", "sync"])
        key, body, index = rng.choice(KEYS), rng.choice(BODIES), rng.randrange(4)
        for pair in pairs:
            if op == "put":
                pair.put(key, body)
            elif op == "delete":
                pair.soft_delete(key)
            elif op == "delete_version":
                versions = ordered_entries(pair.client, pair.source).get(key, [])
                if versions:
                    pair.delete_version(key, versions[index % len(versions)][0])
            elif op == "purge":
                pair.purge_source_key(key)
            elif op == "stray":
                pair.put(key, body, bucket=pair.target)
            else:
                pair.sync()
    for pair in pairs:
        # Every history ends with one permanently deleted key, so every run deletes.
        pair.put("zz/last", "z")
        pair.sync()
        pair.purge_source_key("zz/last")
        pair.sync()


def twin_pairs(endpoint: str, rng: random.Random, tag: str) -> tuple[Any, BucketPair, BucketPair]:
    """Two bucket pairs on the server holding the same random history (and the client)."""
    setup = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    run = uuid.uuid4().hex[:8]  # one server serves many runs of the same seed
    first, second = (
        BucketPair(setup, f"{tag}-{run}-{name}-src", f"{tag}-{run}-{name}-dst") for name in "ab"
    )
    for pair in (first, second):
        make_versioned_bucket(setup, pair.source)
        make_versioned_bucket(setup, pair.target)
    build_history(rng, [first, second], steps=rng.randrange(15, 40))
    return setup, first, second


def ordered_entries(client: Any, bucket: str) -> dict[str, list[tuple[str, bool, str]]]:
    """key -> [(VersionId, is_marker, ETag)] newest first, as S3 lists them."""
    found: dict[str, list[tuple[str, bool, str, Any]]] = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []):
            found.setdefault(v["Key"], []).append((v["VersionId"], False, v["ETag"], v))
        for m in page.get("DeleteMarkers", []):
            found.setdefault(m["Key"], []).append((m["VersionId"], True, "", m))
    ordered: dict[str, list[tuple[str, bool, str]]] = {}
    for key, entries in found.items():
        # IsLatest first, then newest first: the order S3 lists a key's entries in.
        entries.sort(key=lambda e: (not e[3]["IsLatest"], -e[3]["LastModified"].timestamp()))
        ordered[key] = [(vid, marker, etag) for vid, marker, etag, _ in entries]
    return ordered


def signature(client: Any, bucket: str) -> Signature:
    """A bucket's state without VersionIds: per key, its current entry, then the rest.

    The noncurrent entries are sorted: a listing gives versions and markers in separate
    lists, and timestamps of one second can't order them."""
    signed: Signature = {}
    for key, entries in ordered_entries(client, bucket).items():
        shapes = [("marker",) if marker else ("version", etag) for _, marker, etag in entries]
        signed[key] = (shapes[0], *sorted(shapes[1:]))
    return signed


@dataclass
class FaultFigures:
    seed: int
    faults: Counter[str] = field(default_factory=Counter)
    wrongly_deleted: int = 0  # purged entries whose content the source held (invariant 1)
    source_writes: int = 0  # requests that wrote the source (invariant 2)
    visible_changed: int = 0  # keys whose current entry changed and did not vanish (6)
    unaccounted: int = 0  # deletes the server carried out that no journal/report lists (8)
    failed_after_retries: int = 0  # entries the faulty run reported failed
    requests_clean: int = 0
    requests_faulty: int = 0  # the faulty run plus its rerun
    reruns_to_converge: int = 0
    converged: bool = False


def run_seed(
    seed: int, endpoint: str, work: Path, *, rate: float = 0.3, harsh: bool = False
) -> FaultFigures:
    """Build a seeded history twice; reconcile one pair cleanly, the other under faults.

    `harsh` faults 80% of DeleteObjects (half the keys of a `key-errors` answer) and lets
    botocore try each request only twice, so that some deletes fail for good and the run
    ends with part of its plan done: what invariant 6 must survive.
    """
    setup, clean, faulty = twin_pairs(endpoint, random.Random(seed), f"s{seed}")
    figures = FaultFigures(seed)

    with s3_proxy(endpoint) as (url, log):
        _run(clean, url, work / "clean")
        figures.requests_clean = log.arrivals

    source_before = ordered_entries(setup, faulty.source)
    target_before = ordered_entries(setup, faulty.target)
    plan = FaultPlan(seed=seed, rate=rate)
    if harsh:
        plan = FaultPlan(seed=seed, rate=0.8, key_error_rate=0.5, deletes_only=True)
    with s3_proxy(endpoint, plan) as (url, log):
        lines = _run(faulty, url, work / "faulty", attempts=2 if harsh else None)
        journal = journal_refs(work / "faulty")
        figures.faults = plan.injected
        figures.requests_faulty = log.arrivals
        _check(
            figures,
            faulty,
            log,
            lines=lines,
            journal=journal,
            source_before=source_before,
            target_before=target_before,
        )

    # The promise: the fault-free end state, after at most one rerun.
    want = signature(setup, clean.target)
    figures.converged = signature(setup, faulty.target) == want
    if not figures.converged:
        figures.reruns_to_converge = 1
        with s3_proxy(endpoint) as (url, log):
            _run(faulty, url, work / "rerun")
            figures.requests_faulty += log.arrivals
        figures.converged = signature(setup, faulty.target) == want
    return figures


def _run(
    pair: BucketPair, endpoint: str, report: Path, *, attempts: int | None = None
) -> list[dict[str, Any]]:
    client = make_s3_client(region="us-east-1", endpoint_url=endpoint)
    if attempts is not None:
        retries = Config(retries={"mode": "standard", "total_max_attempts": attempts})
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=retries)
    # Small listing pages: more requests, so more places for a fault to land.
    _, lines = run_engine(pair, report, REQUEST, client=client, source_client=client, page_size=3)
    return lines


def journal_refs(report: Path) -> set[tuple[str, str]]:
    """The entries journaled in a run folder, or in every run folder under a report root."""
    refs: set[tuple[str, str]] = set()
    for path in sorted([*report.glob("journal/*.jsonl"), *report.glob("*/journal/*.jsonl")]):
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line)
            refs.add((doc["key"], doc["versionId"]))
    return refs


def _check(
    figures: FaultFigures,
    pair: BucketPair,
    log: ProxyLog,
    *,
    lines: list[dict[str, Any]],
    journal: set[tuple[str, str]],
    source_before: dict[str, list[tuple[str, bool, str]]],
    target_before: dict[str, list[tuple[str, bool, str]]],
) -> None:
    client = pair.client
    source_etags = {
        key: {e[2] for e in entries if not e[1]} for key, entries in source_before.items()
    }
    etag_of = {
        (key, vid): etag for key, entries in target_before.items() for vid, _, etag in entries
    }
    for line in lines:
        held = source_etags.get(line["key"], set())
        if line["outcome"] == "purged" and not line["isDeleteMarker"]:
            figures.wrongly_deleted += etag_of[(line["key"], line["versionId"])] in held
    figures.failed_after_retries = sum(1 for line in lines if line["outcome"] == "failed")
    figures.source_writes = log.writes_to(pair.source)
    if ordered_entries(client, pair.source) != source_before:
        figures.source_writes += 1
    target_after = ordered_entries(client, pair.target)
    for key, entries in target_before.items():
        after = target_after.get(key)
        if after and after[0][0] != entries[0][0]:
            figures.visible_changed += 1
    reported = {(line["key"], line["versionId"]) for line in lines}
    for bucket, key, version in log.deletes_sent:
        if bucket == pair.target and (
            (key, version) not in journal or (key, version) not in reported
        ):
            figures.unaccounted += 1


def main() -> None:
    """Print the reliability figures over many seeds (docs/reliability.md)."""
    import tempfile

    from tests.s3servers import moto_server

    seeds = range(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
    with moto_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        for title, options in (
            ("engine retry policy, 30% of requests faulted", {}),
            ("harsh: 80% of DeleteObjects faulted, 2 attempts each", {"harsh": True}),
        ):
            runs = [
                run_seed(seed, endpoint, Path(tmp) / f"{title[:1]}{seed}", **options)
                for seed in seeds
            ]
            _print_figures(title, runs)


def _print_figures(title: str, runs: list[FaultFigures]) -> None:
    total = Counter[str]()
    for figures in runs:
        total.update(figures.faults)
    print(f"== {title}: {len(runs)} seeded histories")
    print(f"faults injected: {sum(total.values())} ({dict(sorted(total.items()))})")
    print(f"runs at the fault-free end state: {sum(f.converged for f in runs)}")
    print(f"  of which after one rerun: {sum(f.reruns_to_converge == 1 for f in runs)}")
    for name in ("wrongly_deleted", "source_writes", "visible_changed", "unaccounted"):
        print(f"{name.replace('_', ' ')}: {sum(getattr(f, name) for f in runs)}")
    print(f"entries still failed after retries: {sum(f.failed_after_retries for f in runs)}")
    clean = sum(f.requests_clean for f in runs)
    faulty = sum(f.requests_faulty for f in runs)
    extra = faulty - clean
    print(
        f"requests: fault-free {clean}, under faults with reruns {faulty} (+{extra}, "
        f"{100 * extra / max(clean, 1):.0f}%)"
    )


if __name__ == "__main__":
    main()
