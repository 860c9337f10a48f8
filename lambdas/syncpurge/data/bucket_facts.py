"""What a bucket is configured as, read before a run lists or deletes anything: its
versioning and MFA Delete, whether its versions may be listed, Object Lock, default
encryption, lifecycle rules, EventBridge notifications. A bucket that is missing or denies
the read is refused by name, with the action it denied."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from syncpurge.data.routing import BucketRouter
from syncpurge.errors import BucketAccessDenied, PreflightRefused

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# A KeyMarker only keys that begin with U+10FFFF, the last code point, sort after: a listing
# from it is empty, so its answer echoes no key of the bucket (a key XML 1.0 can't carry,
# echoed raw as LocalStack echoes NextKeyMarker, would make the answer unparsable).
PAST_EVERY_KEY = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class VersionLock:
    """What Object Lock holds a version with: its retention mode and date, its legal hold."""

    mode: str | None  # GOVERNANCE | COMPLIANCE
    retain_until: datetime | None
    legal_hold: bool


class BucketFacts:
    """S3Store's reads of a bucket's configuration (S3Store gives the client and router)."""

    router: BucketRouter

    def _client(self, bucket: str) -> S3Client:
        raise NotImplementedError

    def versioning(self, bucket: str) -> tuple[str, bool]:
        """(versioning status, MFA Delete enabled); refuses a bucket that can't be read,
        naming the action it was denied."""
        with self._refusing(bucket, "s3:ListBucket"):
            self._client(bucket).head_bucket(Bucket=bucket)
        with self._refusing(bucket, "s3:GetBucketVersioning"):
            answer = self._client(bucket).get_bucket_versioning(Bucket=bucket)
        return answer.get("Status") or "Disabled", answer.get("MFADelete") == "Enabled"

    def check_list_versions(self, bucket: str) -> None:
        """One empty ListObjectVersions: refuses, naming s3:ListBucketVersions, a bucket
        whose versions this identity may not list (before anything is planned)."""
        with self._refusing(bucket, "s3:ListBucketVersions"):
            self._client(bucket).list_object_versions(
                Bucket=bucket, KeyMarker=PAST_EVERY_KEY, MaxKeys=1
            )

    @contextmanager
    def _refusing(self, bucket: str, action: str) -> Iterator[None]:
        try:
            yield
        except ClientError as err:
            code = error_code(err)
            if code in ("404", "NoSuchBucket"):
                raise PreflightRefused(f"bucket {bucket!r} does not exist") from err
            if code in ("403", "AccessDenied"):
                raise BucketAccessDenied(bucket, action, self.router.owners.get(bucket)) from err
            raise

    def sends_eventbridge_events(self, bucket: str) -> bool:
        """Whether the bucket's notification configuration sends its events to EventBridge."""
        answer = self._client(bucket).get_bucket_notification_configuration(Bucket=bucket)
        return "EventBridgeConfiguration" in answer

    def object_lock_enabled(self, bucket: str) -> bool:
        try:
            config = self._client(bucket).get_object_lock_configuration(Bucket=bucket)
        except ClientError as err:
            if error_code(err) == "ObjectLockConfigurationNotFoundError":
                return False
            raise
        return config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"

    def version_lock(self, bucket: str, key: str, version_id: str) -> VersionLock:
        """The retention and legal hold of one version, from HeadObject: S3 returns its
        x-amz-object-lock-* headers to a requester with s3:GetObjectRetention and
        s3:GetObjectLegalHold (S3 API reference, HeadObject). One call for both facts; moto
        answers GetObjectRetention with a 500, and HeadObject as S3 does."""
        answer: Any = self._client(bucket).head_object(Bucket=bucket, Key=key, VersionId=version_id)
        return VersionLock(
            mode=answer.get("ObjectLockMode"),
            retain_until=answer.get("ObjectLockRetainUntilDate"),
            legal_hold=answer.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def default_encryption(self, bucket: str) -> str:
        """The bucket's default SSE algorithm ('AES256', 'aws:kms', 'aws:kms:dsse')."""
        try:
            config = self._client(bucket).get_bucket_encryption(Bucket=bucket)
        except ClientError as err:
            if error_code(err) == "ServerSideEncryptionConfigurationNotFoundError":
                return "AES256"  # S3 encrypts with SSE-S3 when nothing else is set
            raise
        rules = config.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        for rule in rules:
            algorithm = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
            if algorithm:
                return str(algorithm)
        return "AES256"

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        try:
            config = self._client(bucket).get_bucket_lifecycle_configuration(Bucket=bucket)
        except ClientError as err:
            if error_code(err) == "NoSuchLifecycleConfiguration":
                return []
            raise
        return [dict(rule) for rule in config.get("Rules", [])]


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
