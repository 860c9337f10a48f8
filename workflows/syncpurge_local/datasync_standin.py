"""A test double for DataSync S3→S3 tasks, copying the way DataSync does.

Only the current state of the source is transferred (DataSync reads objects, not version
histories), every write mints a new VersionId in the target, `TransferMode=CHANGED` skips
objects whose size and source ETag already match the target's current version, and
`PreserveDeletedFiles=REMOVE` deletes in the target what the source no longer has, which in
a versioned target leaves a delete marker. Location Subdirectories map keys; `Includes` and
`Excludes` limit the transfer (matched as syncpurge's Scope matches them); directories are
written as zero-byte 'dir/' folder objects; large objects go by multipart upload; a task
with a STANDARD report and ObjectVersionIds=INCLUDE gets Enhanced-mode transferred reports.

`DataSyncStandIn` serves the DataSync API calls the workflow makes (locations, tasks,
executions with result counters, and an injectable ERROR) in place of moto's DataSync,
which keeps no Includes, options or counters.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncpurge.scope import Scope, split_patterns

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCOUNT = "123456789012"
# DataSync writes large objects with multipart upload; their target ETags end in '-<parts>'.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
REPORT_ITEMS = 1000  # items per report object (real reports are split at 5 MB)


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


def _current_objects(
    client: S3Client, bucket: str, root: str, admits: Any
) -> dict[str, dict[str, Any]]:
    """relative key -> current version (only keys whose current entry is a version)."""
    current: dict[str, dict[str, Any]] = {}
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=root):
        for version in page.get("Versions", []):
            rel = version["Key"][len(root) :]
            if version["IsLatest"] and admits(rel):
                current[rel] = dict(version)
    return current


def _folders(relative_keys: Any) -> set[str]:
    """DataSync writes each directory at an S3 destination as a zero-byte 'dir/' object."""
    folders: set[str] = set()
    for rel in relative_keys:
        at = rel.find("/")
        while at != -1:
            folders.add(rel[: at + 1])
            at = rel.find("/", at + 1)
    return folders


@dataclass(frozen=True, slots=True)
class Transfer:
    """One object written to the target: what a task report's Transferred item records."""

    relative_key: str
    source: dict[str, Any]  # the source version read (ListObjectVersions shape)
    target_version_id: str


def copy_like_datasync(
    client: S3Client,
    source_bucket: str,
    target_bucket: str,
    *,
    source_root: str = "",
    target_root: str = "",
    includes: list[str] | None = None,
    excludes: list[str] | None = None,
    preserve_deleted_files: str = "REMOVE",
    transfer_mode: str = "CHANGED",
    folder_objects: bool = True,
    multipart_threshold: int = MULTIPART_THRESHOLD,
    transfers: list[Transfer] | None = None,
) -> TransferResult:
    """Copy the source's current objects in scope (roots, Includes/Excludes) as DataSync does.

    Objects of `multipart_threshold` bytes or more are written with multipart upload (their
    target ETag is `<md5-of-md5s>-<parts>`); each write is appended to `transfers`.
    """
    admits = Scope(includes=tuple(includes or ()), excludes=tuple(excludes or ())).admits
    result = TransferResult()
    source_now = _current_objects(client, source_bucket, source_root, admits)
    target_now = _current_objects(client, target_bucket, target_root, admits)
    for rel, version in sorted(source_now.items()):
        mirrored = target_now.get(rel)
        if (
            mirrored
            and transfer_mode == "CHANGED"
            and _same(client, target_bucket, mirrored, version)
        ):
            result.files_skipped += 1
            continue
        read = client.get_object(
            Bucket=source_bucket,
            Key=version["Key"],
            VersionId=version["VersionId"],
            ChecksumMode="ENABLED",
        )
        body = read["Body"].read()
        # Enhanced mode keeps a full-object CRC64NVME where the source object has one.
        crc = "CRC64NVME" if read.get("ChecksumCRC64NVME") else None
        written = _write(
            client,
            target_bucket,
            target_root + rel,
            body,
            version["ETag"],
            multipart_threshold,
            crc,
        )
        result.files_transferred += 1
        result.bytes_transferred += len(body)
        if transfers is not None:
            transfers.append(Transfer(rel, version, written))
    wanted = set(source_now)
    if folder_objects:
        for folder in sorted(_folders(source_now) - set(target_now)):
            client.put_object(Bucket=target_bucket, Key=target_root + folder, Body=b"")
        wanted |= _folders(source_now)
    if preserve_deleted_files == "REMOVE":
        for rel in sorted(set(target_now) - wanted):
            client.delete_object(Bucket=target_bucket, Key=target_root + rel)
            result.files_deleted += 1
    return result


SOURCE_ETAG = "datasync-source-etag"


def _same(client: S3Client, bucket: str, mirrored: dict[str, Any], source: dict[str, Any]) -> bool:
    """CHANGED compares size and the source ETag the last transfer recorded (its metadata)."""
    if mirrored["Size"] != source["Size"]:
        return False
    if mirrored["ETag"] == source["ETag"]:
        return True
    head = client.head_object(Bucket=bucket, Key=mirrored["Key"], VersionId=mirrored["VersionId"])
    return bool(head.get("Metadata", {}).get(SOURCE_ETAG) == source["ETag"].strip('"'))


def _write(  # noqa: PLR0917 - the stand-in's one write path
    client: S3Client,
    bucket: str,
    key: str,
    body: bytes,
    source_etag: str,
    threshold: int,
    checksum: str | None,
) -> str:
    metadata = {SOURCE_ETAG: source_etag.strip('"')}
    extra: dict[str, Any] = {"ChecksumAlgorithm": checksum} if checksum else {}
    if len(body) < threshold or threshold <= 0:
        put = client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=metadata, **extra)
        return str(put["VersionId"])
    if checksum:
        extra["ChecksumType"] = "FULL_OBJECT"
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata, **extra)
    parts: list[Any] = []
    part_extra: dict[str, Any] = {"ChecksumAlgorithm": checksum} if checksum else {}
    done_extra: dict[str, Any] = {"ChecksumType": "FULL_OBJECT"} if checksum else {}
    for number, start in enumerate(range(0, len(body), threshold), start=1):
        part = client.upload_part(
            Bucket=bucket,
            Key=key,
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=body[start : start + threshold],
            **part_extra,
        )
        entry: dict[str, Any] = {"ETag": part["ETag"], "PartNumber": number}
        if checksum:
            entry["ChecksumCRC64NVME"] = part.get("ChecksumCRC64NVME")
        parts.append(entry)
    done = client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
        **done_extra,
    )
    return str(done["VersionId"])


def transferred_report(execution_id: str, transfers: list[Transfer]) -> dict[str, Any]:
    """An Enhanced-mode 'transferred' task report (DataSync user guide, task reports)."""
    return {
        "TaskExecutionId": execution_id,
        "Transferred": [
            {
                "RelativePath": t.relative_key,
                "SourceMetadata": {
                    "Type": "Object",
                    "ContentSize": t.source["Size"],
                    "LastModified": t.source["LastModified"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "SystemMetadata": {"ETag": t.source["ETag"]},
                    "UserMetadata": {},
                    "Tags": [],
                },
                "Overwrite": "False",
                "DstS3VersionId": t.target_version_id,
                "TransferTimestamp": "2026-01-01T00:00:00.000000000Z",
                "TransferType": "CONTENT_AND_METADATA",
                "TransferStatus": "SUCCESS",
            }
            for t in transfers
        ],
    }


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
