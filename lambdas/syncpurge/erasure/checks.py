"""What an erasure refuses before it deletes anything, each naming what is wrong: keys in
syncpurge's own files or outside the door's scope, keys the source still holds, targets
that overlap the source or each other."""

from __future__ import annotations

from collections.abc import Sequence

from syncpurge.core.policy import (
    DATASYNC_REPORT_FOLDERS,
    LOCK_PREFIX,
    REPORTS_PREFIX,
    STATE_PREFIX,
    WORKSPACE_PREFIX,
)
from syncpurge.data.s3store import S3Store
from syncpurge.erasure.keys import Copy
from syncpurge.erasure.run import ErasureRequest, ErasureRun, listed
from syncpurge.errors import InvalidInput, PreflightRefused

NAMED_SHOWN = 5  # keys a refusal names before "and N more"
# Where syncpurge and DataSync keep their own files at a bucket's root: never an erasure's
# key (its state and lock, run workspaces, every run's reports, DataSync's task reports).
OWN_PREFIXES = (
    STATE_PREFIX,
    LOCK_PREFIX,
    WORKSPACE_PREFIX,
    REPORTS_PREFIX,
    *DATASYNC_REPORT_FOLDERS,
)


def keys_with_entries(store: S3Store, copy: Copy, prefix: str) -> list[str]:
    """Every key with any entry (a version or a delete marker) under `prefix`."""
    keys: list[str] = []
    for page in store.list_pages(copy.bucket, prefix):
        keys.extend(e.key for e in page.entries if not keys or keys[-1] != e.key)
    return list(dict.fromkeys(keys))


def refuse_own_keys(request: ErasureRequest, run: ErasureRun, keys: Sequence[str]) -> None:
    """A named key in syncpurge's own files in a target (its state, its lock, reports,
    workspaces, this erasure's report folder) is refused: they are never an erasure's."""
    for copy in request.targets:
        own = OWN_PREFIXES + ((run.report_prefix,) if copy.bucket == run.report_bucket else ())
        for key in keys:
            bucket_key = copy.bucket_key(key)
            if bucket_key.startswith(own):
                raise InvalidInput(
                    f"{key!r} is {copy.bucket}/{bucket_key}, in syncpurge's own files (its "
                    "state, its run lock or the erasure's report folder), which an erasure "
                    "never deletes; nothing was deleted"
                )


def refuse_outside(run: ErasureRun, keys: Sequence[str]) -> None:
    outside = [k for k in keys if not run.admits(k)]
    if outside:
        raise InvalidInput(
            f"{len(outside)} named keys lie outside this deployment's scope (its prefixes, "
            f"the task's Includes/Excludes, the report folders), e.g. {outside[0]!r}: "
            "nothing was deleted"
        )


def refuse_held_by_source(request: ErasureRequest, run: ErasureRun, keys: Sequence[str]) -> None:
    source = request.source
    held = [
        k for k, found in listed(run, run.source, source, keys, "listed").items() if found.entries
    ]
    if request.prefix is not None and not held:
        under = source.bucket_key(request.prefix)
        held = [k[len(source.root) :] for k in keys_with_entries(run.source, source, under)]
    if held:
        shown = ", ".join(repr(k) for k in held[:NAMED_SHOWN])
        more = f" and {len(held) - NAMED_SHOWN} more" if len(held) > NAMED_SHOWN else ""
        # InvalidInput by name: the state machine's execution fails with that error.
        raise InvalidInput(
            f"the source {source.uri} still holds {len(held)} of the named keys ({shown}{more}): "
            "erase them at the source first (DeleteObject with each VersionId); syncpurge "
            "never deletes the source, and nothing was deleted"
        )


def refuse_overlapping(request: ErasureRequest) -> None:
    """Two targets that are the same bucket and root, or a target that is the source."""
    seen: set[tuple[str, str]] = set()
    for copy in request.targets:
        if copy.bucket == request.source.bucket:
            raise PreflightRefused(
                f"target {copy.uri} is in the source bucket: syncpurge never deletes the source"
            )
        if (copy.bucket, copy.root) in seen:
            raise InvalidInput(f"target {copy.uri} is given twice")
        seen.add((copy.bucket, copy.root))
