"""Every run ends by publishing its figures (issue 9, docs/design.md §6): EMF metrics from the
Report step, and a notification to the deployment's SNS topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from syncpurge_local.runtime import LocalRuntime
from tests.workflow.conftest import deploy

pytestmark = pytest.mark.workflow

ALL = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True, "skipSync": True}


def emf_documents(stdout: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format documents printed (Powertools Metrics)."""
    found = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            found.append(json.loads(line))
    return found


def test_a_run_publishes_its_metrics_and_notification(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalRuntime(emit_metrics=True) as runtime:
        # Given a target with one vanished key
        deployed = deploy(runtime)
        deployed.pair.put_live()
        deployed.pair.put("gone", "x", bucket=deployed.pair.target)

        # When a run purges it
        result = deployed.run(ALL)
        notes = deployed.notifications()

    # Then the Report step's EMF document carries the run's totals and status
    assert result.status == "SUCCEEDED", result.cause
    documents = emf_documents(capsys.readouterr().out)
    run_id = (result.output or {})["summary"]["runId"]
    run_doc = next(d for d in documents if d.get("runId") == run_id)

    def last(value: Any) -> Any:
        # One Metrics object serves the process: a value can be a list of several runs'.
        return value[-1] if isinstance(value, list) else value

    assert last(run_doc["RunPurged"]) == 1
    assert last(run_doc["RunsSucceeded"]) == 1
    assert last(run_doc["RunFailed"]) == 0
    assert run_doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "syncpurge"
    # And the topic got the summary and the report's location
    (note,) = notes
    assert note["Subject"].startswith("syncpurge SUCCEEDED")
    assert "purged 1," in note["Message"]
    assert (result.output or {})["report"] in note["Message"]
    assert "applyPlan" not in note["Message"]


def test_a_deployment_requiring_approval_says_how_to_apply_its_plan(
    runtime: LocalRuntime,
) -> None:
    # Given a deployment with requireApproval, whose scheduled runs are dry runs
    deployed = deploy(runtime, require_approval=True)
    deployed.pair.put_live()
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)

    # When the scheduled (dry) run plans
    result = deployed.run({**ALL, "dryRun": True})

    # Then the notification says how to purge exactly that plan, and nothing was deleted
    assert result.status == "SUCCEEDED", result.cause
    (note,) = deployed.notifications()
    run_id = (result.output or {})["summary"]["runId"]
    assert note["Subject"].startswith("syncpurge DRY_RUN")
    assert json.dumps({"applyPlan": run_id}) in note["Message"]
    assert f"--apply-plan {run_id}" in note["Message"]
    assert deployed.state_machine_arn in note["Message"]
    assert "gone" in deployed.pair.all_keys()
