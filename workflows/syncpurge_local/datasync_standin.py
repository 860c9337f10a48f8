"""A test double for DataSync S3→S3 tasks, copying the way DataSync does.

Only the current state of the source is transferred (DataSync reads objects, not version
histories), every write mints a new VersionId in the target, `TransferMode=CHANGED` skips
objects whose size and ETag already match the target's current version, and
`PreserveDeletedFiles=REMOVE` deletes in the target what the source no longer has, which in
a versioned target leaves a delete marker. `Includes` limits the transfer to its patterns.

`DataSyncStandIn` serves the DataSync API calls the workflow makes (locations, tasks,
executions with result counters, and an injectable ERROR) in place of moto's DataSync,
which keeps no Includes, options or counters.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCOUNT = "123456789012"


@dataclass(slots=True)
class TransferResult:
    files_transferred: int = 0
    files_deleted: int = 0
    files_skipped: int = 0
    bytes_transferred: int = 0

    def as_execution_counters(self) -> dict[str, Any]:
        return {
            "EstimatedFilesToTransfer": self.files_transferred,
            "EstimatedFilesToDelete": self.files_deleted,
            "FilesTransferred": self.files_transferred,
            "FilesDeleted": self.files_deleted,
            "FilesSkipped": self.files_skipped,
            "BytesTransferred": self.bytes_transferred,
            "BytesWritten": self.bytes_transferred,
        }


def _current_objects(client: S3Client, bucket: str, prefix: str) -> dict[str, dict[str, Any]]:
    """key -> current version (only keys whose current entry is a version)."""
    current: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            if version["IsLatest"]:
                current[version["Key"]] = dict(version)
    return current


def copy_like_datasync(
    client: S3Client,
    source_bucket: str,
    target_bucket: str,
    *,
    includes: list[str] | None = None,
    preserve_deleted_files: str = "REMOVE",
    transfer_mode: str = "CHANGED",
) -> TransferResult:
    """Copy the source's current objects under each include prefix (default: all)."""
    result = TransferResult()
    for prefix in includes or [""]:
        source_now = _current_objects(client, source_bucket, prefix)
        target_now = _current_objects(client, target_bucket, prefix)
        for key, version in sorted(source_now.items()):
            mirrored = target_now.get(key)
            same = mirrored and (mirrored["Size"], mirrored["ETag"]) == (
                version["Size"],
                version["ETag"],
            )
            if same and transfer_mode == "CHANGED":
                result.files_skipped += 1
                continue
            body = client.get_object(Bucket=source_bucket, Key=key, VersionId=version["VersionId"])[
                "Body"
            ].read()
            client.put_object(Bucket=target_bucket, Key=key, Body=body)
            result.files_transferred += 1
            result.bytes_transferred += len(body)
        if preserve_deleted_files == "REMOVE":
            for key in sorted(set(target_now) - set(source_now)):
                client.delete_object(Bucket=target_bucket, Key=key)
                result.files_deleted += 1
    return result


def include_prefixes(filters: list[dict[str, str]] | None, root: str) -> list[str] | None:
    """DataSync Includes ('/logs/*|/a.txt') as key prefixes under the location root."""
    if not filters:
        return None
    prefixes = []
    for rule in filters:
        for pattern in rule.get("Value", "").split("|"):
            if pattern:
                prefixes.append(root + pattern.lstrip("/").removesuffix("*"))
    return prefixes


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
            source_bucket, _, root = source.removeprefix("s3://").partition("/")
            target_bucket = target.removeprefix("s3://").partition("/")[0]
            result = copy_like_datasync(
                self._s3(),
                source_bucket,
                target_bucket,
                includes=include_prefixes(includes, root) or ([root] if root else None),
                preserve_deleted_files=options["PreserveDeletedFiles"],
                transfer_mode=options["TransferMode"],
            )
        self.executions[arn] = _Execution(arn, task["TaskArn"], result, error, includes)
        task["CurrentTaskExecutionArn"] = arn
        return {"TaskExecutionArn": arn}

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
