"""Parity of the two drivers (issue 29, "One pipeline, two drivers"): on the same random
world, the CLI's run and the local runtime's state machine plan the same entries, line for
line, with the same rule, proof, outcome and reason. Only run ids and timings may differ.

The world: a DataSync task (datasync mode) or none (replication mode) between the pair;
a random history of puts, syncs, soft deletes, permanent deletes at the source and
entries written only to the target, under two prefixes and the root; a run over the whole
scope or one prefix, as a dry run (both drivers read the same buckets); the CLI on one
worker, or on three over key ranges cut an entry or two wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncpurge.phases import cutting
from syncpurge.phases.report import read_entries_lines
from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.conftest import property_examples
from tests.helpers import BucketPair, exit_code, read_run_report, run_folders, versioned_pair
from tests.workflow.conftest import REPORTS

pytestmark = pytest.mark.workflow

KEYS = ["data/a", "data/b", "logs/c", "top"]
BODIES = ["1", "22"]
operation = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS), st.sampled_from(BODIES)),
    st.tuples(st.just("sync")),
    st.tuples(st.just("soft"), st.sampled_from(KEYS)),
    st.tuples(st.just("erase"), st.sampled_from(KEYS), st.integers(0, 3)),
    st.tuples(st.just("stray"), st.sampled_from(KEYS), st.sampled_from(BODIES)),
)
# What a line says of an entry; the run id, times and sizes are each driver's own.
FIELDS = ("key", "versionId", "isDeleteMarker", "rule", "proof", "outcome", "reason")


def apply(pair: BucketPair, op: tuple[Any, ...]) -> None:
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
        versions = sorted(
            (e for e in pair.entries(pair.source) if e[0] == op[1]), key=lambda e: e[1]
        )
        if versions:
            key, version_id, _ = versions[op[2] % len(versions)]
            pair.delete_version(key, version_id)


def lines(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(line[f] for f in FIELDS) for line in entries)


def cli_plan(
    pair: BucketPair, report: Path, task_arn: str, mode: str, prefix: str | None, *, workers: int
) -> Any:
    where = ["--task-arn", task_arn] if task_arn else [
        "--source-bucket", pair.source, "--target-bucket", pair.target, "--mode", mode
    ]  # fmt: skip
    flags = [
        "reconcile",
        *where,
        "--region",
        "us-east-1",
        "--report",
        str(report),
        "--dry-run",
        "--grace-minutes",
        "0",
        "--allow-unrelated-source",
        *(["--prefix", prefix] if prefix else []),
        "--workers",
        str(workers),
    ]
    assert exit_code(flags) == 0
    (run,) = run_folders(report)
    return lines(list(read_entries_lines(run)))


def state_machine_plan(
    runtime: LocalRuntime, pair: BucketPair, task_arn: str, mode: str, prefix: str | None
) -> Any:
    arn = runtime.deploy(LocalDeployment(pair.source, pair.target, REPORTS, task_arn, mode=mode))
    request: dict[str, Any] = {
        "dryRun": True,
        "skipSync": True,
        "graceMinutes": 0,
        "allowUnrelatedSource": True,
        **({"prefixes": [prefix]} if prefix else {}),
    }
    result = runtime.run(arn, request)
    assert result.status == "SUCCEEDED", result.cause
    _, entries = read_run_report(pair.client, REPORTS, result.arn.rsplit(":", 1)[-1])
    return lines(entries)


@settings(
    max_examples=property_examples(10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=1, max_size=12),
    mode=st.sampled_from(["datasync", "replication"]),
    prefix=st.sampled_from([None, "data/", "logs/"]),
    workers=st.sampled_from([1, 3]),
)
def test_the_cli_and_the_state_machine_plan_alike_line_for_line(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    *,
    ops: list[tuple[Any, ...]],
    mode: str,
    prefix: str | None,
    workers: int,
) -> None:
    # items of an entry or two: the CLI's workers cut even these few keys
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 1)
    with LocalRuntime() as runtime:
        s3 = boto3.client("s3", region_name="us-east-1")
        pair = versioned_pair(s3, "parity-source", "parity-target", reports=REPORTS)
        task_arn = runtime.create_task(pair.source, pair.target) if mode == "datasync" else ""
        for op in ops:
            apply(pair, op)

        by_cli = cli_plan(
            pair, tmp_path_factory.mktemp("cli"), task_arn, mode, prefix, workers=workers
        )
        by_state_machine = state_machine_plan(runtime, pair, task_arn, mode, prefix)

    assert by_cli == by_state_machine
