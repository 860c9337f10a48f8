"""Issue 3 acceptance: the real definition, executed on moto, end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from syncpurge_local.runtime import DEFINITION, LocalDeployment, LocalRuntime, placeholders
from tests.workflow.conftest import REPORTS, Deployed, deploy

pytestmark = pytest.mark.workflow

# Most scenarios here hold only leftovers in the target; a source with nothing in common is
# refused unless allowed (docs/design.md §5 "Unrelated source"), which has its own tests.
ALL = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}


def case2(deployed: Deployed) -> None:
    """The seed's Case 2 up to the permanent delete: a.txt synced, deleted, synced, purged."""
    pair = deployed.pair
    pair.put("a.txt", "hello")
    pair.put("a.txt.bak", "backup")
    pair.put("c.txt", "see")
    assert deployed.run({"maxPurgeFraction": 1.0}).status == "SUCCEEDED"
    pair.soft_delete("a.txt")
    assert deployed.run({"maxPurgeFraction": 1.0}).status == "SUCCEEDED"
    pair.purge_source_key("a.txt")


def test_happy_path_syncs_purges_and_reports(deployed: Deployed) -> None:
    # Given the Case 2 story: a.txt's marker and version linger in the target
    case2(deployed)
    leftovers = {e for e in deployed.pair.entries() if e[0] == "a.txt"}
    assert len(leftovers) == 2

    # When the state machine runs with the console's {}-like request
    result = deployed.run(ALL)

    # Then they are purged, the rest untouched, and the report holds the figures
    assert result.status == "SUCCEEDED", result.cause
    assert {e[0] for e in deployed.pair.entries()} == {"a.txt.bak", "c.txt"}
    summary, lines = deployed.report(result)
    assert summary["status"] == "SUCCEEDED"
    assert summary["totals"]["planned"] == 2
    assert summary["totals"]["purged"] == 2
    assert summary["totals"]["bytesReclaimed"] == len("hello")
    assert summary["totals"]["sourceEntries"] == 2
    assert summary["totals"]["targetEntries"] == 4
    assert summary["sync"]["status"] == "SUCCESS"
    assert summary["sync"]["executionArn"].startswith(deployed.task_arn)
    assert summary["byRule"]["vanished-key"]["purged"] == 2
    assert {(line["key"], line["outcome"]) for line in lines} == {("a.txt", "purged")}
    assert result.output is not None
    assert result.output["report"].startswith(f"s3://{REPORTS}/datasync-reports/Purge-Reports/")

    # And a second run plans nothing (fixpoint)
    again = deployed.run(ALL)
    summary, lines = deployed.report(again)
    assert summary["totals"]["planned"] == 0
    assert lines == []


def test_dry_run_deletes_nothing(deployed: Deployed) -> None:
    case2(deployed)
    before = deployed.pair.entries()

    result = deployed.run({**ALL, "dryRun": True})

    assert result.status == "SUCCEEDED"
    summary, lines = deployed.report(result)
    assert summary["status"] == "DRY_RUN"
    assert {line["outcome"] for line in lines} == {"planned"}
    assert deployed.pair.entries() == before


def test_guard_tripped_deletes_nothing(deployed: Deployed) -> None:
    case2(deployed)
    before = deployed.pair.entries()

    result = deployed.run({})  # default maxPurgeFraction 0.05 of 4 entries

    # The execution fails so that the alarm fires; the cause says which limit tripped.
    assert result.status == "FAILED"
    assert result.error == "GuardTripped"
    assert "maxPurgeFraction" in (result.cause or "")
    summary, lines = deployed.report(result)
    assert summary["status"] == "GUARD_TRIPPED"
    assert summary["guard"]["tripped"] is True
    assert "maxPurgeFraction" in summary["guard"]["reason"]
    assert len(lines) == 2
    assert deployed.pair.entries() == before


def test_datasync_error_purges_nothing_and_fails_with_its_error(deployed: Deployed) -> None:
    case2(deployed)
    before = deployed.pair.entries()
    deployed.runtime.datasync.fail_next_execution("S3AccessDenied", "no access to the bucket")

    result = deployed.run(ALL)

    assert result.status == "FAILED"
    assert result.error == "DataSyncExecutionFailed"
    assert "S3AccessDenied" in (result.cause or "")
    summary, lines = deployed.report(result)
    assert summary["status"] == "FAILED"
    assert "S3AccessDenied" in summary["error"]
    assert lines == []
    assert deployed.pair.entries() == before


@pytest.mark.parametrize(
    ("request_doc", "named"),
    [
        ({"maxPurgeFraction": 2}, "maxPurgeFraction"),
        ({"prefixes": [7]}, "prefixes[0]"),
        ({"surprise": True}, "surprise: unknown field"),
        ({"mode": "mirror"}, "mode"),
    ],
)
def test_invalid_input_fails_naming_the_field_and_deletes_nothing(
    deployed: Deployed, request_doc: dict[str, object], named: str
) -> None:
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)
    before = deployed.pair.entries()

    result = deployed.run(request_doc)

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert named in (result.cause or "")
    assert deployed.pair.entries() == before
    assert deployed.runtime.datasync.executions == {}
    summary, _ = deployed.report(result)
    assert summary["status"] == "FAILED"
    assert "InvalidInput" in summary["error"]


def test_per_prefix_run_touches_only_its_prefix_in_sync_and_purge(deployed: Deployed) -> None:
    pair = deployed.pair
    for key in ("logs/old", "img/old"):
        pair.put(key, "x")
    assert deployed.run(ALL).status == "SUCCEEDED"
    for key in ("logs/old", "img/old"):
        pair.purge_source_key(key)
    pair.put("logs/new", "n")
    pair.put("img/new", "n")

    result = deployed.run({**ALL, "prefixes": ["logs/"]})

    assert result.status == "SUCCEEDED", result.cause
    keys = {e[0] for e in pair.entries()}
    assert "logs/old" not in keys
    assert "logs/new" in keys  # synced
    assert "img/new" not in keys  # outside the Includes: not synced
    assert "img/old" in keys  # outside the prefix: not purged
    execution = list(deployed.runtime.datasync.executions.values())[-1]
    assert execution.includes == [{"FilterType": "SIMPLE_PATTERN", "Value": "/logs/*"}]
    summary, lines = deployed.report(result)
    assert summary["prefixes"] == ["logs/"]
    assert {line["key"] for line in lines} == {"logs/old"}


def test_skip_sync_starts_no_datasync_execution(deployed: Deployed) -> None:
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)

    result = deployed.run({**ALL, "skipSync": True})

    assert result.status == "SUCCEEDED"
    assert deployed.runtime.datasync.executions == {}
    summary, _ = deployed.report(result)
    assert summary["sync"] is None
    assert summary["totals"]["purged"] == 1


def test_preserve_deleted_files_purges_nothing_unless_overridden(runtime: LocalRuntime) -> None:
    deployed = deploy(runtime, preserve="PRESERVE")
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)

    result = deployed.run(ALL)

    summary, lines = deployed.report(result)
    assert result.status == "SUCCEEDED"
    assert summary["status"] == "DRY_RUN"
    assert any("PreserveDeletedFiles=PRESERVE" in a for a in summary["advisories"])
    assert [line["outcome"] for line in lines] == ["planned"]
    assert "gone" in deployed.pair.all_keys()

    result = deployed.run({**ALL, "overridePreserve": True})
    summary, _ = deployed.report(result)
    assert summary["status"] == "SUCCEEDED"
    assert deployed.pair.all_keys() == set()


def test_tiny_time_budget_loops_on_cursors_to_the_same_result() -> None:
    def scenario(budget: float) -> tuple[set[tuple[str, str]], int]:
        with LocalRuntime(lambda_budget_seconds=budget) as runtime:
            deployed = deploy(runtime)
            for i in range(12):
                deployed.pair.put(f"dir/k{i:02d}", "x", bucket=deployed.pair.target)
                if i % 3 == 0:
                    deployed.pair.put(f"dir/k{i:02d}", "x")
            result = deployed.run({**ALL, "skipSync": True})
            assert result.status == "SUCCEEDED", result.cause
            _, lines = deployed.report(result)
            slices = sum(1 for step, _ in runtime.invocations if step == "diff")
            return {(line["key"], line["outcome"]) for line in lines}, slices

    one_pass, one_pass_slices = scenario(900.0)
    looped, looped_slices = scenario(0.0)

    assert looped == one_pass
    assert len(one_pass) == 8
    assert one_pass_slices == 1  # a small scope is one key range
    assert looped_slices > 8  # a budget of zero diffs one key per invocation


def test_a_second_concurrent_execution_fails_already_running(deployed: Deployed) -> None:
    # Hold the first run in its DataSync poll loop until the second has been refused.
    deployed.runtime.datasync.polls_before_done = 10**9
    first = deployed.runtime.start(deployed.state_machine_arn, ALL)
    for _ in range(400):
        if deployed.runtime.datasync.executions:
            break
        time.sleep(0.05)
    assert deployed.runtime.datasync.executions, "the first run never started its sync"

    second = deployed.run(ALL)
    deployed.runtime.datasync.polls_before_done = 0  # let the first run finish

    assert second.status == "FAILED"
    assert second.error == "AlreadyRunning"
    assert first.rsplit(":", 1)[-1] in (second.cause or "")
    assert deployed.runtime.wait(first).status == "SUCCEEDED"


def test_placeholders_equal_the_local_substitutions() -> None:
    substitutions = LocalDeployment("s", "t", "r").substitutions()
    assert placeholders(DEFINITION.read_text()) == set(substitutions)


def test_the_definition_passes_the_asl_validator() -> None:
    validator = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "asl-validator"
    assert validator.exists(), "run ./dev setup: the Node tooling is not installed"
    assert shutil.which("node"), "Node.js is required (see README)"
    definition = json.loads(DEFINITION.read_text())

    checked = subprocess.run(
        [str(validator), "--json-definition", json.dumps(definition)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "is valid" in checked.stdout


def test_a_task_between_other_buckets_is_refused_before_anything_runs(
    runtime: LocalRuntime,
) -> None:
    deployed = deploy(runtime)
    s3 = deployed.pair.client
    for bucket in ("elsewhere-src", "elsewhere-dst"):
        s3.create_bucket(Bucket=bucket)
    other_task = runtime.create_task("elsewhere-src", "elsewhere-dst")
    arn = runtime.deploy(
        LocalDeployment(deployed.pair.source, deployed.pair.target, REPORTS, other_task),
        name="mismatched",
    )
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)

    result = runtime.run(arn, ALL)

    assert result.status == "FAILED"
    assert result.error == "PreflightRefused"
    assert "not the configured" in (result.cause or "")
    assert runtime.datasync.executions == {}
    assert "gone" in deployed.pair.all_keys()


def test_the_datasync_poll_interval_backs_off_to_its_ceiling(runtime: LocalRuntime) -> None:
    deployed = deploy(runtime)
    arn = runtime.deploy(
        LocalDeployment(
            deployed.pair.source,
            deployed.pair.target,
            REPORTS,
            deployed.task_arn,
            poll_interval_seconds=1,
            poll_ceiling_seconds=2,
        ),
        name="backing-off",
    )
    runtime.datasync.polls_before_done = 2
    for bucket in (deployed.pair.source, deployed.pair.target):
        deployed.pair.put("live", "x", bucket=bucket)

    result = runtime.run(arn, ALL)

    assert result.status == "SUCCEEDED", result.cause
    history = boto3.client("stepfunctions", region_name="us-east-1").get_execution_history(
        executionArn=result.arn, maxResults=1000
    )["events"]
    waits = [
        json.loads(e["stateEnteredEventDetails"]["input"])["poll"]["seconds"]
        for e in history
        if e["type"] == "WaitStateEntered"
    ]
    assert waits == [1, 2, 2]
