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
from syncpurge.erasure.keys import Copy, start_marker
from syncpurge.erasure.listing import KeyListing
from syncpurge.erasure.run import ErasureRequest, ErasureRun, listed
from syncpurge.errors import InvalidInput, PreflightRefused, UnrelatedSource

NAMED_SHOWN = 5  # keys a refusal names before "and N more"
# Keys a copy holds beside the named ones, looked up in the source to see the two are related.
RELATED_SAMPLE = 20
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
    pages = store.list_pages(copy.bucket, prefix)
    return list(dict.fromkeys(e.key for page in pages for e in page.entries))


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


def refuse_unrelated_source(request: ErasureRequest, run: ErasureRun, keys: Sequence[str]) -> None:
    """docs/design.md §5 "Unrelated source", for an erasure: a wrong --source root holds
    none of the named keys either, and would let an erasure empty a copy of keys the right
    root still holds. So the first keys each side holds under its root (beside the named
    ones, RELATED_SAMPLE at most) are looked up on the other side: when no key is on both,
    the erasure is refused unless allowed (an empty source root included). Each side's
    paging is checked first on a key it is known to hold (`refuse_unlike_s3_paging`): the
    lookups list by marker."""
    source = request.source
    from_source = _first_keys(run.source, source, set(keys))
    if from_source:
        refuse_unlike_s3_paging(run.source, source.bucket, source.bucket_key(from_source[0]))
    for copy in request.targets:
        from_copy = _first_keys(run.targets, copy, set(keys))
        if from_copy:
            refuse_unlike_s3_paging(run.targets, copy.bucket, copy.bucket_key(from_copy[0]))
        in_source = _held(listed(run, run.source, source, from_copy, "sampled"))
        in_copy = _held(listed(run, run.targets, copy, from_source, "sampled"))
        if in_source or in_copy or request.allow_unrelated_source:
            continue
        seen = f"the first {len(from_source)} it holds" if from_source else "none: it is empty"
        raise UnrelatedSource(
            f"the source {source.uri} and the copy {copy.uri} share no key among the first "
            f"of each (the source's: {seen}): is the source's root right? A wrong source "
            "never empties a copy; give --allow-unrelated-source (allowUnrelatedSource) if "
            "it is; nothing was deleted"
        )


def _first_keys(store: S3Store, copy: Copy, named: set[str]) -> list[str]:
    """The first keys (relative) a bucket holds under its root, beside the named ones and
    syncpurge's own files: one page, RELATED_SAMPLE keys at most."""
    sample: list[str] = []
    for entry in store.key_set_page(copy.bucket, copy.root).entries:
        relative = entry.key[len(copy.root) :]
        if relative in named or entry.key.startswith(OWN_PREFIXES) or relative in sample:
            continue
        sample.append(relative)
        if len(sample) == RELATED_SAMPLE:
            break
    return sample


def _held(found: dict[str, KeyListing]) -> bool:
    return any(listing.entries for listing in found.values())


def refuse_unlike_s3_paging(store: S3Store, bucket: str, key: str) -> None:
    """An erasure's listings start at KeyMarkers that name no key; S3 lists every key after
    such a marker (S3 API reference, ListObjectVersions). An endpoint that skips the first
    entry after it (moto's server, unpatched) would show a key the source holds as gone,
    and a receipt as true that is not: compare a listing of `key` from its marker with
    one of its prefix alone, and refuse on a difference, before anything is deleted."""
    truth = store.key_set_page(bucket, key)
    marker = start_marker(key)
    probed = store.key_set_page(bucket, key, marker)
    first = [e.version_id for e in truth.entries if e.key == key][:1]
    after = [e.version_id for e in probed.entries if e.key == key][:1]
    if first != after:
        raise PreflightRefused(
            f"the S3 endpoint of s3://{bucket} lists unlike S3 after a KeyMarker that names "
            f"no key ({key!r}'s first entry is missing from the listing that starts right "
            "before it): an erasure lists by such markers, so it can't prove a key gone "
            "there; nothing was deleted"
        )
