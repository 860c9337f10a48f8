"""A test double for a DataSync S3→S3 task execution, copying the way DataSync does.

Only the current state of the source is transferred (DataSync reads objects, not version
histories), every write mints a new VersionId in the target, `TransferMode=CHANGED` skips
objects whose size and ETag already match the target's current version, and
`PreserveDeletedFiles=REMOVE` deletes in the target what the source no longer has, which in
a versioned target leaves a delete marker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(slots=True)
class TransferResult:
    files_transferred: int = 0
    files_deleted: int = 0
    files_skipped: int = 0
    bytes_transferred: int = 0
    keys: list[str] = field(default_factory=list)

    def as_execution_counters(self) -> dict[str, Any]:
        return {
            "FilesTransferred": self.files_transferred,
            "FilesDeleted": self.files_deleted,
            "FilesSkipped": self.files_skipped,
            "BytesTransferred": self.bytes_transferred,
            "BytesWritten": self.bytes_transferred,
            "EstimatedFilesToTransfer": self.files_transferred,
            "EstimatedFilesToDelete": self.files_deleted,
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
) -> TransferResult:
    result = TransferResult()
    for prefix in includes or [""]:
        source_now = _current_objects(client, source_bucket, prefix)
        target_now = _current_objects(client, target_bucket, prefix)
        for key, version in sorted(source_now.items()):
            mirrored = target_now.get(key)
            if mirrored and (mirrored["Size"], mirrored["ETag"]) == (
                version["Size"],
                version["ETag"],
            ):
                result.files_skipped += 1
                continue
            body = client.get_object(Bucket=source_bucket, Key=key, VersionId=version["VersionId"])[
                "Body"
            ].read()
            client.put_object(Bucket=target_bucket, Key=key, Body=body)
            result.files_transferred += 1
            result.bytes_transferred += len(body)
            result.keys.append(key)
        if preserve_deleted_files == "REMOVE":
            for key in sorted(set(target_now) - set(source_now)):
                client.delete_object(Bucket=target_bucket, Key=key)
                result.files_deleted += 1
    return result
