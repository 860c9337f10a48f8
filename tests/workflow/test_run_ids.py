"""One run-id format for the demo, the CLI and the state machine (issue 30): each door's
run ids match syncpurge.core.run_ids.RUN_ID, including an execution a schedule or the console
named (its run id is made from its start time and name, at every step the same)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_OK, main
from syncpurge.core.run_ids import RUN_ID, execution_run_id, new_run_id
from tests.helpers import BucketPair, reconcile_flags, run_folders
from tests.workflow.conftest import Deployed

pytestmark = pytest.mark.workflow

ALL = {"maxPurgeFraction": 1.0}


def test_the_cli_names_its_runs_in_the_format(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)

    code = main(reconcile_flags(pair, "--report", str(tmp_path), "--dry-run", "--json"))

    run_id = json.loads(capsys.readouterr().out)["runId"]
    assert code == EXIT_OK
    assert RUN_ID.match(run_id), run_id
    assert [p.name for p in run_folders(tmp_path)] == [run_id]
    workspaces = [p.name for p in (tmp_path / "syncpurge-work").iterdir() if p.name != "boundaries"]
    assert workspaces == [run_id]  # its plan


def test_syncpurge_start_names_its_execution_in_the_format(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "start",
            "--state-machine-arn",
            deployed.state_machine_arn,
            "--region",
            "us-east-1",
            "--no-follow",
            "--dry-run",
            "--skip-sync",
        ]
    )

    arn = capsys.readouterr().out.strip()
    assert code == EXIT_OK
    assert RUN_ID.match(arn.rsplit(":", 1)[-1]), arn
    deployed.runtime.wait(arn)


def test_the_demo_and_the_state_machine_name_runs_in_the_format(deployed: Deployed) -> None:
    for bucket in (deployed.pair.source, deployed.pair.target):
        deployed.pair.put("live", "x", bucket=bucket)

    result = deployed.run(ALL)  # named as the demo names its executions

    assert result.status == "SUCCEEDED", result.cause
    name = result.arn.rsplit(":", 1)[-1]
    assert RUN_ID.match(name), name
    assert result.output["summary"]["runId"] == name  # type: ignore[index]


def test_an_execution_a_schedule_named_gets_a_run_id_in_the_format(deployed: Deployed) -> None:
    for bucket in (deployed.pair.source, deployed.pair.target):
        deployed.pair.put("live", "x", bucket=bucket)
    scheduled = "0b7e2a4c-3f1d-4c55-9a9e-2f0d6c1e8b11"  # EventBridge Scheduler's kind of name

    result = deployed.run(ALL, name=scheduled)

    assert result.status == "SUCCEEDED", result.cause
    summary = result.output["summary"]  # type: ignore[index]
    assert RUN_ID.match(summary["runId"]), summary["runId"]
    assert f"/{summary['runId']}/" in result.output["report"]  # type: ignore[index]


def test_the_format_itself() -> None:
    at = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))

    fresh = new_run_id(at)
    derived = execution_run_id("console-started-by-hand", at)

    assert fresh.startswith("20260102T030405Z-")  # UTC, whatever the zone given
    assert RUN_ID.match(fresh)
    assert RUN_ID.match(derived)
    assert derived.startswith("20260102T030405Z-")
    assert derived == execution_run_id("console-started-by-hand", at.astimezone(UTC))
    assert execution_run_id(fresh, at + timedelta(hours=5)) == fresh
    assert len(fresh) <= 80  # a valid execution name (and applyPlan run id)
