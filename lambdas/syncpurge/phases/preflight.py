"""Preflight (docs/design.md §5): refuse unsafe bucket pairs; collect advisories for the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncpurge.data.s3store import S3Store
from syncpurge.errors import BucketAccessDenied, PreflightRefused, UnrelatedSource


@dataclass(slots=True)
class PreflightResult:
    target_object_lock: bool
    advisories: list[str] = field(default_factory=list)


def run_preflight(
    source: S3Store,
    target: S3Store,
    source_bucket: str,
    target_bucket: str,
    *,
    report_bucket: str | None = None,
) -> PreflightResult:
    if report_bucket == source_bucket:
        raise PreflightRefused(
            f"the report destination is in the source bucket {source_bucket!r}: syncpurge "
            "never writes to the source; choose another bucket or a local folder"
        )
    check_pair(source, target, source_bucket, target_bucket)
    result = PreflightResult(target_object_lock=target.object_lock_enabled(target_bucket))
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


def check_pair(source: S3Store, target: S3Store, source_bucket: str, target_bucket: str) -> None:
    """What every door refuses before it lists or deletes anything: one bucket for both, a
    bucket that won't answer as its owner, versioning not Enabled, MFA Delete on the
    target (every version delete would need the root user's token)."""
    if source_bucket == target_bucket:
        raise PreflightRefused(
            f"source and target are the same bucket ({source_bucket!r}): nothing to reconcile"
        )
    for store, bucket, role in (
        (source, source_bucket, "source"),
        (target, target_bucket, "target"),
    ):
        status, mfa_delete = check_readable(store, bucket, role)
        if status != "Enabled":
            raise PreflightRefused(
                f"{role} bucket {bucket!r} has versioning {status}; syncpurge needs it Enabled"
            )
        if mfa_delete and role == "target":
            raise PreflightRefused(
                f"target bucket {bucket!r} has MFA Delete enabled: every version delete "
                "needs the root user's MFA token, which an unattended run can't give"
            )


def check_readable(store: S3Store, bucket: str, side: str) -> tuple[str, bool]:
    """The bucket's (versioning status, MFA Delete) and one page of its versions; a 403
    names the action denied and where the statements a bucket policy needs come from."""
    try:
        versioning = store.versioning(bucket)
        store.check_list_versions(bucket)
    except BucketAccessDenied as err:
        raise PreflightRefused(
            f"{side} {err}. If {bucket!r} is in another account, its bucket policy must "
            f"allow {err.action} to this run's identity: `syncpurge bucket-policy --stack "
            f"<stack> --side {side}` prints the statements a deployment needs."
        ) from err
    return versioning


def check_related(
    *, source_entries: int, target_entries: int, keys_in_both: int, allow_unrelated: bool
) -> None:
    """docs/design.md §5 "Unrelated source": a wrong or empty source must never empty a target."""
    if target_entries == 0 or allow_unrelated:
        return
    if source_entries == 0:
        raise UnrelatedSource(
            f"the source lists no entry in scope while the target holds {target_entries}: "
            "a wrong or empty source would empty the target (force does not override this; "
            "allowUnrelatedSource / --allow-unrelated-source does)"
        )
    if keys_in_both == 0:
        raise UnrelatedSource(
            "the source and the target share no key in scope: this does not look like a "
            "copy of this source (force does not override this; allowUnrelatedSource / "
            "--allow-unrelated-source does)"
        )
