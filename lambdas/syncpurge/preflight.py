"""Preflight (DESIGN §5): refuse unsafe bucket pairs; collect advisories for the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncpurge.errors import ModeMismatch, PreflightRefused
from syncpurge.models import Mode
from syncpurge.s3store import S3Store


@dataclass(slots=True)
class PreflightResult:
    target_object_lock: bool
    # False when an ETag may not be a digest of the content (SSE-KMS): then only sizes
    # can prove two versions differ.
    etags_comparable: bool = True
    advisories: list[str] = field(default_factory=list)


def run_preflight(
    source: S3Store, target: S3Store, source_bucket: str, target_bucket: str
) -> PreflightResult:
    if source_bucket == target_bucket:
        raise PreflightRefused(
            f"source and target are the same bucket ({source_bucket!r}): nothing to reconcile"
        )
    for store, bucket, role in (
        (source, source_bucket, "source"),
        (target, target_bucket, "target"),
    ):
        status = store.versioning_status(bucket)
        if status != "Enabled":
            raise PreflightRefused(
                f"{role} bucket {bucket!r} has versioning {status}; syncpurge needs it Enabled"
            )
    result = PreflightResult(target_object_lock=target.object_lock_enabled(target_bucket))
    kms = [
        f"{bucket} ({algorithm})"
        for store, bucket in ((source, source_bucket), (target, target_bucket))
        if (algorithm := store.default_encryption(bucket)).startswith("aws:kms")
    ]
    if kms:
        result.etags_comparable = False
        result.advisories.append(
            f"SSE-KMS by default on {', '.join(kms)}: ETags are not content digests, so "
            "noncurrent versions are compared by size only; same-size ones are kept "
            "(skipped, unverifiable)"
        )
    if result.target_object_lock:
        result.advisories.append(
            f"target bucket {target_bucket!r} has Object Lock: locked versions are reported "
            "'retained', not deleted"
        )
    for rule in target.lifecycle_rules(target_bucket):
        if rule.get("Status") == "Enabled" and (
            "NoncurrentVersionExpiration" in rule
            or rule.get("Expiration", {}).get("ExpiredObjectDeleteMarker")
        ):
            result.advisories.append(
                f"target lifecycle rule {rule.get('ID', '(unnamed)')!r} also expires noncurrent "
                "versions or delete markers"
            )
    return result


def check_mode(mode: Mode, keys_in_both: int, keys_sharing_version_ids: int) -> None:
    """Replication mode on a target that shares no VersionIds would purge everything."""
    if mode is Mode.REPLICATION and keys_in_both > 0 and keys_sharing_version_ids == 0:
        raise ModeMismatch(
            f"mode 'replication', but none of the {keys_in_both} keys present in both buckets "
            "shares a VersionId: the target was not written by S3 Replication "
            "(use --mode datasync)"
        )
