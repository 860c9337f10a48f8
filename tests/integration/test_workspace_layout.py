"""The state machine's steps keep a run's workspace and report under the same names in S3
and in a local folder (docs/design.md §14: one layout on both)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from syncpurge.data.files import FolderStore, RunFiles
from syncpurge.data.s3store import S3Store
from syncpurge.workflow import (
    DiffItemEvent,
    PlanEvent,
    PrepareEvent,
    Progress,
    PurgeItem,
    PurgeItemEvent,
    ReportEvent,
    RunConfig,
    RunContext,
    RunEvent,
    Stores,
    WorkItem,
    diff_item,
    guard,
    plan_step,
    prepare,
    purge_item,
    report,
)
from syncpurge.workflow.context import STATE_PREFIX
from syncpurge.workflow.plan import WaveState
from tests.helpers import versioned_pair

pytestmark = pytest.mark.integration

REPORTS = "layout-reports"
STARTED = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
# What differs between two runs of one world: times, the VersionIds S3 gave, and the
# random name each Purge attempt journals under (invariant 8).
RUN_SPECIFIC = re.compile(
    r'\d{4}-\d\d-\d\dT[\d:.]+(Z|\+00:00)|"(versionId|v)": "[^"]*"|-[0-9a-f]{8}-(?=batch|\d)'
)


def run_the_steps(stores: Stores) -> None:
    """One run, step after step, as the definition orders them (no sync: skipSync)."""
    config = RunConfig(
        source_bucket="layout-source",
        target_bucket="layout-target",
        report_bucket=REPORTS,
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:syncpurge",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:syncpurge:layout",
        execution_name="layout",
        start_time=STARTED,
    )
    request = {"skipSync": True, "maxPurgeFraction": 1}
    prepared = prepare(PrepareEvent(request=request, config=config), stores)
    run = RunContext.model_validate(prepared["run"])
    items = plan_step(PlanEvent(run=run), stores)
    while items["count"]:
        for item in read_json(stores.files, items):
            work = WorkItem.model_validate(item)
            until_done(
                lambda p, w=work: diff_item(DiffItemEvent(run=run, item=w, progress=p), stores)
            )
        wave = WaveState(wave=items["wave"], next_index=items["nextIndex"])
        items = plan_step(PlanEvent(run=run, after_wave=wave), stores)
    decided = guard(RunEvent(run=run), stores)
    assert decided["decision"] == "purge"
    for item in read_json(stores.files, decided):
        chunks = PurgeItem.model_validate(item)
        until_done(
            lambda p, c=chunks: purge_item(
                PurgeItemEvent(run=run, item=c, progress=p), stores
            ).progress.to_state()
        )
    report(ReportEvent(run=run), stores)


def read_json(files: RunFiles, where: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(files.get_bytes(where["bucket"], where["key"]))
    return found


def until_done(step: Callable[[Progress], dict[str, Any]]) -> None:
    progress = Progress()
    while not progress.done:
        progress = Progress.model_validate(step(progress))


def files_of(files: RunFiles) -> dict[str, list[str]]:
    """Each file's lines, run-specific parts left out (a batch's lines are in the order of
    their random VersionIds: sorted)."""
    return {
        RUN_SPECIFIC.sub("", key): sorted(
            RUN_SPECIFIC.sub("", files.get_bytes(REPORTS, key).decode()).splitlines()
        )
        for key in files.list_keys(REPORTS, "")
    }


def world_and_run(
    files: Callable[[S3Store], RunFiles],
) -> tuple[dict[str, list[str]], list[str]]:
    """A target holding two keys the source erased; the run's files afterwards, and the
    deployment's state files in the report bucket in S3."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        pair = versioned_pair(client, "layout-source", "layout-target", reports=REPORTS)
        pair.put_live()
        for key in ("gone/a.txt", "gone/b.txt"):
            pair.put(key, "old", bucket=pair.target)
            pair.put(key, "new", bucket=pair.target)
        s3 = S3Store(client)
        stores = Stores(s3, files=files(s3))
        run_the_steps(stores)
        assert pair.all_keys() == {"live"}
        return files_of(stores.files), s3.list_keys(REPORTS, STATE_PREFIX)


def test_a_run_keeps_the_same_files_in_s3_and_in_a_local_folder(tmp_path: Path) -> None:
    in_s3, state_in_s3 = world_and_run(lambda s3: s3)
    in_folder, state_beside_folder = world_and_run(lambda _: FolderStore(tmp_path))

    # The workspace and the report: the same files in either place
    run_files = {name: lines for name, lines in in_s3.items() if not name.startswith(STATE_PREFIX)}
    assert in_folder == run_files
    names = sorted(run_files)
    assert any(name.startswith("syncpurge-work/") and "/plan/" in name for name in names)
    assert any("/outcomes/" in name for name in names)
    assert any(name.endswith("/summary.json") for name in names)
    assert any("/journal/" in name for name in names)
    # The deployment's state (the verdict on the source the event path reads) stays in S3
    assert state_in_s3 == state_beside_folder == [f"{STATE_PREFIX}source-verdict.json"]
