"""Pure pieces of the workflow steps: DataSync Includes and failure descriptions."""

from __future__ import annotations

import json

import pytest

from syncpurge.data.aws import S3Location, TaskFacts
from syncpurge.data.s3store import MAX_KEYS_PER_DELETE
from syncpurge.errors import InvalidInput
from syncpurge.workflow import FailureInfo, datasync_includes, describe_failure
from syncpurge.workflow.context import (
    PLAN_CHUNK_ENTRIES,
    Location,
    stored_workspace,
    workspace_root,
)
from syncpurge.workflow.guard import item_share, purge_items
from syncpurge.workflow.plan import stored_spans

pytestmark = pytest.mark.unit


def facts(subdirectory: str = "") -> TaskFacts:
    return TaskFacts(
        "arn:task/task-1",
        "task-1",
        S3Location("s", subdirectory),
        S3Location("t", subdirectory),
        "REMOVE",
        None,
        "",
    )


def test_includes_cover_exactly_the_prefixes() -> None:
    assert datasync_includes(["logs/2024/", "a.txt"], facts()) == [
        {"FilterType": "SIMPLE_PATTERN", "Value": "/logs/2024/*|/a.txt*"}
    ]


def test_whole_bucket_runs_pass_no_includes() -> None:
    assert datasync_includes([""], facts()) == []


def test_prefixes_are_relative_to_the_task_location() -> None:
    # docs/design.md §3.1: a request's prefixes are relative paths inside the task's scope.
    assert datasync_includes(["logs/"], facts("data/")) == [
        {"FilterType": "SIMPLE_PATTERN", "Value": "/logs/*"}
    ]
    with pytest.raises(InvalidInput, match="can't be expressed as a DataSync filter"):
        datasync_includes(["a|b/"], facts("data/"))


def test_a_lambda_error_cause_becomes_its_message() -> None:
    cause = json.dumps({"errorType": "InvalidInput", "errorMessage": "maxPurge: too small"})
    assert describe_failure(FailureInfo(Error="InvalidInput", Cause=cause), None) == (
        "InvalidInput",
        "maxPurge: too small",
    )


def test_reserved_states_errors_are_renamed_with_the_original_kept() -> None:
    error, cause = describe_failure(
        FailureInfo(Error="States.Timeout", Cause="took too long"), None
    )
    assert error == "RunFailed"
    assert cause == "States.Timeout: took too long"


def test_datasync_failures_quote_datasync_s_error() -> None:
    sync = {
        "TaskExecutionArn": "arn:exec",
        "Status": "ERROR",
        "Result": {"ErrorCode": "S3AccessDenied", "ErrorDetail": "denied"},
    }
    error, cause = describe_failure(FailureInfo(Error="DataSyncExecutionFailed"), sync)
    assert error == "DataSyncExecutionFailed"
    assert "S3AccessDenied denied" in cause
    assert "nothing was purged" in cause


def test_guard_chains_the_plan_chunks_a_key_runs_across_into_one_purge_item() -> None:
    # Issue 8, defect 10: a long key's plan spans chunks (and Diff slices); its current
    # entry, in the last of them, must be purged after the others, by the same item.
    figures = {
        "planKeys": [["p/00000-00000-001", "p/00000-00000-002"], ["p/00000-00001-001"]],
        "chunkSpans": [[["a", "long"], ["long", "long"]], [["long", "z"]]],
    }
    figures["planKeys"].append(["p/00001-00000-001"])
    figures["chunkSpans"].append([["zz", "zz"]])

    assert purge_items(figures) == [
        {"planKeys": ["p/00000-00000-001", "p/00000-00000-002", "p/00000-00001-001"]},
        {"planKeys": ["p/00001-00000-001"]},
    ]


def test_guard_joins_small_plan_chunks_of_key_range_items_into_full_purge_items() -> None:
    # Given four Diff items whose plans are small (key ranges), then one with a full chunk
    figures = {
        "planKeys": [[f"p/0000{i}-00000-001"] for i in range(4)] + [["p/00004-00000-001"]],
        "chunkSpans": [[[f"k{i}a", f"k{i}z"]] for i in range(5)],
        "chunkLines": [[20_000], [20_000], [9_000], [30_000], [50_000]],
    }

    # Then consecutive chunks share a purge item while they fit one chunk's 50,000 lines,
    # so DeleteObjects batches stay full across the ranges
    assert purge_items(figures) == [
        {"planKeys": ["p/00000-00000-001", "p/00001-00000-001", "p/00002-00000-001"]},
        {"planKeys": ["p/00003-00000-001"]},
        {"planKeys": ["p/00004-00000-001"]},
    ]


def test_a_stored_workspace_lies_beside_the_runs_own() -> None:
    deployment = Location(bucket="reports", prefix="syncpurge-work/20261207T120000Z-abc123/")
    assert stored_workspace(deployment, "run-1") == Location(
        bucket="reports", prefix="syncpurge-work/run-1/"
    )
    assert workspace_root(deployment) == Location(bucket="reports", prefix="syncpurge-work/")
    # a workspace kept under a report root (a CLI run's --report)
    nested = Location(bucket="b", prefix="team/reports/syncpurge-work/run-2/")
    assert stored_workspace(nested, "run-1").prefix == "team/reports/syncpurge-work/run-1/"
    assert workspace_root(Location(bucket="b", prefix="run-2/")).prefix == ""


def test_purge_items_share_the_plan_among_the_items_that_run_at_once() -> None:
    # a Purge Map of 8 items at once: a small plan is one DeleteObjects batch's item, a
    # large one is cut in eighths, and no item holds more than a chunk
    assert item_share(17, 8) == MAX_KEYS_PER_DELETE
    assert item_share(200_000, 8) == 25_000
    assert item_share(10**7, 8) == PLAN_CHUNK_ENTRIES
    # eight chunks of 10,000 lines, eight at once: an item each
    keys = [f"plan/{i:05d}-00000-001.jsonl" for i in range(8)]
    figures = {
        "planKeys": [keys],
        "chunkSpans": [[[f"k{i}a", f"k{i}z"] for i in range(8)]],
        "chunkLines": [[10_000] * 8],
    }
    assert len(purge_items(figures, item_share(80_000, 8))) == 8
    assert len(purge_items(figures, item_share(80_000, 1))) == 2  # chunks of 50,000 at most


def test_stored_chunks_whose_keys_overlap_are_refused_and_a_key_across_two_is_not() -> None:
    overlapping = {"planKeys": [["p/1", "p/2"]], "chunkSpans": [[["a", "k"], ["j", "z"]]]}
    with pytest.raises(InvalidInput, match="not in key order"):
        stored_spans(overlapping, "ws/")
    across = {"planKeys": [["p/1", "p/2"]], "chunkSpans": [[["a", "k"], ["k", "z"]]]}
    assert stored_spans(across, "ws/") == {"p/1": ["a", "k"], "p/2": ["k", "z"]}
