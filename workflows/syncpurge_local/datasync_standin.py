"""A test double for DataSync S3→S3 tasks: `DataSyncStandIn` serves the DataSync API calls
the workflow makes (locations, tasks, executions with result counters, and an injectable
ERROR) in place of moto's DataSync, which keeps no Includes, options or counters. The copy
itself is `syncpurge_local.datasync_copy`, done the way DataSync does it.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from syncpurge.core.scope import split_patterns
from syncpurge_local.datasync_copy import (
    ACCOUNT,
    MULTIPART_THRESHOLD,
    REPORT_ITEMS,
    Transfer,
    TransferResult,
    copy_like_datasync,
    transferred_report,
)


@dataclass
class _Execution:
    arn: str
    task_arn: str
    result: TransferResult | None
    error: tuple[str, str] | None
    includes: list[dict[str, str]] | None
    describes: int = 0


class DataSyncStandIn:
    """DataSync's control plane for S3 locations, answering in DataSync's JSON shapes."""

    def __init__(self, s3_client_factory: Any, region: str = "us-east-1") -> None:
        self._s3 = s3_client_factory
        self.region = region
        self.locations: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, _Execution] = {}
        self._ids = itertools.count(1)
        self._fail_next: tuple[str, str] | None = None
        # How many DescribeTaskExecution calls report TRANSFERRING before the end state.
        self.polls_before_done = 1
        self.multipart_threshold = MULTIPART_THRESHOLD

    def fail_next_execution(
        self, code: str = "SyncTaskErrorLocationNotAdded", detail: str = "injected failure"
    ) -> None:
        self._fail_next = (code, detail)

    # ------------------------------------------------------------------ API operations

    def create_location_s3(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:datasync:{self.region}:{ACCOUNT}:location/loc-{next(self._ids):017d}"
        bucket = params["S3BucketArn"].rsplit(":", 1)[-1]
        subdirectory = (params.get("Subdirectory") or "").strip("/")
        uri = f"s3://{bucket}/{subdirectory + '/' if subdirectory else ''}"
        self.locations[arn] = {
            "LocationArn": arn,
            "LocationUri": uri,
            "S3Config": params.get("S3Config", {}),
        }
        return {"LocationArn": arn}

    def describe_location_s3(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._get(self.locations, params["LocationArn"], "location"))

    def create_task(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:datasync:{self.region}:{ACCOUNT}:task/task-{next(self._ids):017d}"
        options = {
            "TransferMode": "CHANGED",
            "PreserveDeletedFiles": "PRESERVE",
            **(params.get("Options") or {}),
        }
        self.tasks[arn] = {
            "TaskArn": arn,
            "Status": "AVAILABLE",
            "Name": params.get("Name", ""),
            "SourceLocationArn": params["SourceLocationArn"],
            "DestinationLocationArn": params["DestinationLocationArn"],
            "Options": options,
            "Includes": params.get("Includes") or [],
            "Excludes": params.get("Excludes") or [],
            "TaskReportConfig": params.get("TaskReportConfig") or {},
        }
        return {"TaskArn": arn}

    def describe_task(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._get(self.tasks, params["TaskArn"], "task"))

    def start_task_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        task = self._get(self.tasks, params["TaskArn"], "task")
        arn = f"{task['TaskArn']}/execution/exec-{next(self._ids):017d}"
        includes = params.get("Includes") or task["Includes"] or None
        options = {**task["Options"], **(params.get("OverrideOptions") or {})}
        error, self._fail_next = self._fail_next, None
        result = None
        if error is None:
            source = self.locations[task["SourceLocationArn"]]["LocationUri"]
            target = self.locations[task["DestinationLocationArn"]]["LocationUri"]
            source_bucket, _, source_root = source.removeprefix("s3://").partition("/")
            target_bucket, _, target_root = target.removeprefix("s3://").partition("/")
            transfers: list[Transfer] = []
            result = copy_like_datasync(
                self._s3(),
                source_bucket,
                target_bucket,
                source_root=source_root,
                target_root=target_root,
                includes=list(split_patterns(includes)),
                excludes=list(split_patterns(task["Excludes"])),
                preserve_deleted_files=options["PreserveDeletedFiles"],
                transfer_mode=options["TransferMode"],
                multipart_threshold=self.multipart_threshold,
                transfers=transfers,
            )
            self._write_report(task, arn, transfers)
        self.executions[arn] = _Execution(arn, task["TaskArn"], result, error, includes)
        task["CurrentTaskExecutionArn"] = arn
        return {"TaskExecutionArn": arn}

    def _write_report(self, task: dict[str, Any], arn: str, transfers: list[Transfer]) -> None:
        """A STANDARD report with ObjectVersionIds=INCLUDE, where the task asks for one."""
        config = task.get("TaskReportConfig") or {}
        destination = (config.get("Destination") or {}).get("S3") or {}
        wanted = (
            config.get("OutputType") == "STANDARD" and config.get("ObjectVersionIds") == "INCLUDE"
        )
        if not destination or not wanted or not transfers:
            return
        bucket = destination["S3BucketArn"].rsplit(":", 1)[-1]
        subdirectory = (destination.get("Subdirectory") or "").strip("/")
        task_id = task["TaskArn"].rsplit("/", 1)[-1]
        execution_id = arn.rsplit("/", 1)[-1]
        root = f"{subdirectory}/" if subdirectory else ""
        folder = f"{root}Detailed-Reports/{task_id}/{execution_id}/"
        for number, start in enumerate(range(0, len(transfers), REPORT_ITEMS), start=1):
            chunk = transfers[start : start + REPORT_ITEMS]
            body = json.dumps(transferred_report(execution_id, chunk))
            name = f"{execution_id}.files-transferred-v1-{number:05d}-{next(self._ids):017d}.json"
            key = folder + name
            self._s3().put_object(Bucket=bucket, Key=key, Body=body.encode())

    def describe_task_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._get(self.executions, params["TaskExecutionArn"], "execution")
        execution.describes += 1
        described: dict[str, Any] = {
            "TaskExecutionArn": execution.arn,
            "Includes": execution.includes or [],
        }
        if execution.describes <= self.polls_before_done:
            return {**described, "Status": "TRANSFERRING"}
        if execution.error is not None:
            code, detail = execution.error
            return {
                **described,
                "Status": "ERROR",
                "Result": {"PrepareStatus": "ERROR", "ErrorCode": code, "ErrorDetail": detail},
            }
        counters = execution.result.as_execution_counters() if execution.result else {}
        return {
            **described,
            "Status": "SUCCESS",
            **counters,
            "Result": {
                "PrepareStatus": "SUCCESS",
                "TransferStatus": "SUCCESS",
                "VerifyStatus": "SUCCESS",
            },
        }

    OPERATIONS = (
        "create_location_s3",
        "describe_location_s3",
        "create_task",
        "describe_task",
        "start_task_execution",
        "describe_task_execution",
    )

    @staticmethod
    def _get(table: dict[str, Any], arn: str, kind: str) -> Any:
        if arn not in table:
            raise InvalidRequest(f"{kind} {arn} does not exist")
        return table[arn]

    def answer(self, operation: str, body: bytes | str | None) -> str:
        params = json.loads(body or "{}")
        return json.dumps(getattr(self, operation)(params), default=str)


class InvalidRequest(Exception):
    """DataSync's InvalidRequestException."""
