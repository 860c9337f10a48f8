"""Parity of the two drivers' outcomes (issue 29, "One pipeline, two drivers"): two copies of
one random world, one purged by the CLI (on one worker, or on three over key ranges an
entry or two wide and a plan purged in parts of a key or two), the other by the local
runtime's state machine, end with the same report lines and the same target, line for
line. Only run ids, version ids, times and sizes may differ.

The world: a DataSync task (datasync mode, with no filter, an Exclude or an Include) or none
(replication mode); a random history of puts, syncs, soft deletes, permanent deletes at the
source and entries written only to the target; a run over the whole scope or one prefix;
purged at once, or planned by a dry run whose stored plan is then applied.
"""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from syncpurge.phases import cutting
from syncpurge.phases.report import read_entries_lines
from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.conftest import property_examples
from tests.helpers import BucketPair, exit_code, make_versioned_bucket, read_run_report, run_folders
from tests.workflow.conftest import REPORTS
from tests.workflow.test_driver_parity import operation

pytestmark = pytest.mark.workflow

# the module (the package names its step function `guard` too)
workflow_guard = importlib.import_module("syncpurge.workflow.guard")

# What a line says of an entry; run ids, version ids, times and sizes are each world's own.
FIELDS = ("key", "isDeleteMarker", "rule", "proof", "outcome", "reason")
FILTERS = {"none": ("", ""), "exclude": ("", "/logs/*"), "include": ("/data/*", "")}
LIMITS = ["--max-purge-fraction", "1", "--grace-minutes", "0", "--allow-unrelated-source"]


def erase_in_listing_order(pair: BucketPair, key: str, index: int) -> None:
    """The index-th of the key's source entries in S3's order (both copies alike)."""
    listing = pair.client.list_object_versions(Bucket=pair.source, Prefix=key)
    ids = [
        entry["VersionId"]
        for group in ("Versions", "DeleteMarkers")
        for entry in listing.get(group, [])
        if entry["Key"] == key
    ]
    if ids:
        pair.delete_version(key, ids[index % len(ids)])


def build(pair: BucketPair, ops: list[tuple[Any, ...]]) -> None:
    make_versioned_bucket(pair.client, pair.source)
    make_versioned_bucket(pair.client, pair.target)
    for op in ops:
        kind = op[0]
        if kind == "put":
            pair.put(op[1], op[2])
        elif kind == "sync":
            pair.sync()
        elif kind == "soft":
            pair.soft_delete(op[1])
        elif kind == "stray":
            pair.put(op[1], op[2], bucket=pair.target)
        else:
            erase_in_listing_order(pair, op[1], op[2])


def lines(entries: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(line[f] for f in FIELDS) for line in entries)


def target_shape(pair: BucketPair) -> Counter[tuple[str, bool]]:
    """The target's entries as (key, is a delete marker): what is left, version ids aside."""
    return Counter((key, marker) for key, _, marker in pair.entries(pair.target))


def by_cli(
    pair: BucketPair, report: Path, task_arn: str, mode: str, run: dict[str, Any]
) -> Counter[tuple[Any, ...]]:
    where = ["--task-arn", task_arn] if task_arn else [
        "--source-bucket", pair.source, "--target-bucket", pair.target, "--mode", mode
    ]  # fmt: skip
    flags = [
        "reconcile", *where, "--region", "us-east-1", "--report", str(report), *LIMITS,
        *(["--prefix", run["prefix"]] if run["prefix"] else []),
        "--workers", str(run["workers"]),
    ]  # fmt: skip
    dry_runs: set[Path] = set()
    if run["stored"]:
        assert exit_code([*flags, "--dry-run"]) == 0
        dry_runs = set(run_folders(report))
        (dry,) = dry_runs
        flags += ["--apply-plan", dry.name]
    assert exit_code(flags) == 0
    # (run ids of one second sort by their random part: the dry run's may sort after)
    (purging,) = set(run_folders(report)) - dry_runs
    return lines(list(read_entries_lines(purging)))


def by_state_machine(
    runtime: LocalRuntime, pair: BucketPair, task_arn: str, mode: str, run: dict[str, Any]
) -> Counter[tuple[Any, ...]]:
    arn = runtime.deploy(LocalDeployment(pair.source, pair.target, REPORTS, task_arn, mode=mode))
    request: dict[str, Any] = {
        "skipSync": True,
        "graceMinutes": 0,
        "maxPurgeFraction": 1.0,
        "allowUnrelatedSource": True,
        **({"prefixes": [run["prefix"]]} if run["prefix"] else {}),
    }
    if run["stored"]:
        dry = runtime.run(arn, {**request, "dryRun": True})
        assert dry.status == "SUCCEEDED", dry.cause
        request["applyPlan"] = (dry.output or {})["summary"]["runId"]
    result = runtime.run(arn, request)
    assert result.status == "SUCCEEDED", result.cause
    _, entries = read_run_report(pair.client, REPORTS, (result.output or {})["summary"]["runId"])
    return lines(entries)


@settings(
    max_examples=property_examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=12),
    mode=st.sampled_from(["datasync", "replication"]),
    filters=st.sampled_from(sorted(FILTERS)),
    prefix=st.sampled_from([None, "data/", "logs/"]),
    workers=st.sampled_from([1, 3]),
    stored=st.booleans(),
)
def test_the_cli_and_the_state_machine_purge_alike_line_for_line(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    *,
    ops: list[tuple[Any, ...]],
    mode: str,
    filters: str,
    prefix: str | None,
    workers: int,
    stored: bool,
) -> None:
    # a prefix the task's Include leaves out is refused by both (test_policy_parity)
    assume(not (mode == "datasync" and filters == "include" and prefix == "logs/"))
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 1)
    monkeypatch.setattr(workflow_guard, "MIN_ITEM_LINES", 1)  # three workers: items of a key
    run = {"prefix": prefix, "workers": workers, "stored": stored}
    includes, excludes = FILTERS[filters] if mode == "datasync" else ("", "")
    with LocalRuntime() as runtime:
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=REPORTS)
        worlds = [BucketPair(s3, f"{name}-source", f"{name}-target") for name in ("cli", "sm")]
        tasks = []
        for world in worlds:
            build(world, ops)
            tasks.append(
                runtime.create_task(
                    world.source, world.target, includes=includes, excludes=excludes
                )
                if mode == "datasync"
                else ""
            )
        cli_lines = by_cli(worlds[0], tmp_path_factory.mktemp("cli"), tasks[0], mode, run)
        sm_lines = by_state_machine(runtime, worlds[1], tasks[1], mode, run)

        assert cli_lines == sm_lines
        assert target_shape(worlds[0]) == target_shape(worlds[1])
