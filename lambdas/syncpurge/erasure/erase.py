"""`erase` (docs/design.md §15): purge every entry of named keys from each copy, with proof,
through the batch path's purge; then list every bucket again for the receipt.

The source is never written: while it holds any entry of a named key the erasure is
refused, naming the keys. On each target every entry of a named key is a `vanished-key`
candidate of the batch rules (the source holds none), purged with proof `vanished`: re-listed
in the source right before its DeleteObjects (verify before destroy), current entry last,
each batch journaled before it is sent. A plan over `max_purge` entries deletes nothing
unless forced. Entries written after the erasure began are kept (grace).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.guard import evaluate_guard
from syncpurge.core.listing import key_histories
from syncpurge.core.policy import (
    DATASYNC_REPORT_FOLDERS,
    LOCK_PREFIX,
    REPORTS_PREFIX,
    STATE_PREFIX,
    WORKSPACE_PREFIX,
)
from syncpurge.core.proof import resolve
from syncpurge.core.rules import DiffPolicy
from syncpurge.data.s3shapes import ListingPage
from syncpurge.data.s3store import S3Store
from syncpurge.erasure.keys import Copy, start_marker
from syncpurge.erasure.listing import KeyListing, list_key_set
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.models import Mode, PlannedEntry, Rule
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings
from syncpurge.phases.preflight import run_preflight
from syncpurge.phases.purge import purge_plan
from syncpurge.phases.report import (
    BatchJournal,
    EntriesWriter,
    ReportDestination,
    record_to_line,
    write_started,
)

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


class ErasureGuardTripped(Exception):
    """The erasure would purge more than max_purge entries: nothing was deleted."""


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    source: Copy
    targets: tuple[Copy, ...]
    keys: tuple[str, ...]  # named keys, relative to each root; () with a prefix
    prefix: str | None = None
    keys_file: str | None = None
    max_purge: int = 100_000
    force: bool = False
    bypass_governance: bool = False


@dataclass(frozen=True, slots=True)
class ErasureRun:
    """What an erasure runs with: its stores, its folder, its clock and who it is."""

    source: S3Store
    targets: S3Store
    folder: Callable[[str], ReportDestination]  # a subfolder of the erasure's ("" itself)
    report_bucket: str | None  # the bucket the erasure's folder is in (None: local)
    report_prefix: str
    erasure_id: str
    clock: Callable[[], datetime]
    say: Callable[[str], None] = lambda _: None
    # Whether a named key may be erased through this door (a deployment: its scope).
    admits: Callable[[str], bool] = lambda _: True


@dataclass(slots=True)
class TargetErasure:
    """One target: what was listed before, planned, answered, and listed after."""

    copy: Copy
    object_lock: bool
    before: dict[str, KeyListing]
    plan: list[PlannedEntry]
    outcomes: list[tuple[OutcomeRecord, datetime]] = dataclasses.field(default_factory=list)
    after: dict[str, KeyListing] = dataclasses.field(default_factory=dict)


@dataclass(slots=True)
class ErasureResult:
    started_at: datetime
    keys: tuple[str, ...]
    source_after: dict[str, KeyListing]
    targets: list[TargetErasure]


def erase(request: ErasureRequest, run: ErasureRun) -> ErasureResult:
    started = run.clock()
    # The preflight first: it refuses a report folder in the source before anything is
    # written there (invariant 2); then the folder's first write proves it takes writes.
    locks = [_preflight(request, run, copy) for copy in request.targets]
    write_started(run.folder(""), {"erasureId": run.erasure_id, "startedAt": started.isoformat()})
    keys = request.keys or _keys_under_prefix(request, run)
    _refuse_own_keys(request, run, keys)
    _refuse_outside(run, keys)
    _refuse_held_by_source(request, run, keys)
    policy = DiffPolicy(Mode.DATASYNC, frozenset({Rule.VANISHED_KEY}), started, None)
    targets = []
    for copy, lock in zip(request.targets, locks, strict=True):
        before = _listed(run, run.targets, copy, keys, "listed")
        plan = plan_target(before, copy, request.source, policy, run)
        targets.append(TargetErasure(copy, lock, before, plan))
    _guard(request, sum(1 for t in targets for p in t.plan if p.to_purge))
    for number, target in enumerate(targets, start=1):
        _purge(request, run, target, number)
        target.after = _listed(run, run.targets, target.copy, keys, "re-listed")
    source_after = _listed(run, run.source, request.source, keys, "re-listed")
    return ErasureResult(started, keys, source_after, targets)


def _preflight(request: ErasureRequest, run: ErasureRun, copy: Copy) -> bool:
    """The batch path's preflight for the source and this target; whether it has Object Lock."""
    found = run_preflight(
        run.source,
        run.targets,
        request.source.bucket,
        copy.bucket,
        report_bucket=run.report_bucket,
    )
    return found.target_object_lock


def _listed(
    run: ErasureRun, store: S3Store, copy: Copy, keys: Sequence[str], verb: str
) -> dict[str, KeyListing]:
    """The named keys' listings in one bucket, by named key."""
    started = run.clock()
    by_bucket_key = list_key_set(store, copy.bucket, [copy.bucket_key(k) for k in keys], run.clock)
    seconds = max((run.clock() - started).total_seconds(), 1e-3)
    run.say(f"{verb} {len(keys):,} keys in {copy.uri} ({len(keys) / seconds:,.0f} keys/s)")
    return {k: by_bucket_key[copy.bucket_key(k)] for k in keys}


def _keys_under_prefix(request: ErasureRequest, run: ErasureRun) -> tuple[str, ...]:
    """A prefix's keys: every key the targets hold under it (relative to their roots)."""
    assert request.prefix is not None
    found: set[str] = set()
    for copy in request.targets:
        under = copy.bucket_key(request.prefix)
        found.update(k[len(copy.root) :] for k in _keys_with_entries(run.targets, copy, under))
    keys = tuple(sorted(found))
    run.say(f"{len(keys):,} keys under prefix {request.prefix!r} on the targets")
    return keys


def _keys_with_entries(store: S3Store, copy: Copy, prefix: str) -> list[str]:
    """Every key with any entry (a version or a delete marker) under `prefix`."""
    keys: list[str] = []
    for page in store.list_pages(copy.bucket, prefix):
        keys.extend(e.key for e in page.entries if not keys or keys[-1] != e.key)
    return list(dict.fromkeys(keys))


def _refuse_own_keys(request: ErasureRequest, run: ErasureRun, keys: Sequence[str]) -> None:
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


def _refuse_outside(run: ErasureRun, keys: Sequence[str]) -> None:
    outside = [k for k in keys if not run.admits(k)]
    if outside:
        raise InvalidInput(
            f"{len(outside)} named keys lie outside this deployment's scope (its prefixes, "
            f"the task's Includes/Excludes, the report folders), e.g. {outside[0]!r}: "
            "nothing was deleted"
        )


def _refuse_held_by_source(request: ErasureRequest, run: ErasureRun, keys: Sequence[str]) -> None:
    source = request.source
    held = [
        k for k, found in _listed(run, run.source, source, keys, "listed").items() if found.entries
    ]
    if request.prefix is not None and not held:
        under = source.bucket_key(request.prefix)
        held = [k[len(source.root) :] for k in _keys_with_entries(run.source, source, under)]
    if held:
        shown = ", ".join(repr(k) for k in held[:NAMED_SHOWN])
        more = f" and {len(held) - NAMED_SHOWN} more" if len(held) > NAMED_SHOWN else ""
        # InvalidInput by name: the state machine's execution fails with that error.
        raise InvalidInput(
            f"the source {source.uri} still holds {len(held)} of the named keys ({shown}{more}): "
            "erase them at the source first (DeleteObject with each VersionId); syncpurge "
            "never deletes the source, and nothing was deleted"
        )


def plan_target(
    listed: dict[str, KeyListing], copy: Copy, source: Copy, policy: DiffPolicy, run: ErasureRun
) -> list[PlannedEntry]:
    """The batch rules on one target's listing of the named keys against a source that
    holds none of them: each entry a `vanished-key` candidate with proof `vanished`."""
    entries = [e for key in sorted(listed) for e in listed[key].entries]
    histories = key_histories([ListingPage(entries, [], False)], root=copy.root)
    candidates = diff_histories(
        iter(()), histories, policy, DiffStats(), source_key=source.bucket_key
    )
    planned = resolve(
        candidates,
        source=run.source,
        target=run.targets,
        source_bucket=source.bucket,
        target_bucket=copy.bucket,
    )
    # Verify before destroy starts each key's source listing right before it.
    return [
        dataclasses.replace(p, source_predecessor=start_marker(p.mapped_source_key))
        for p in planned
    ]


def _guard(request: ErasureRequest, planned: int) -> None:
    # Every entry of a named key is to go, so the share of the scope is always all of it:
    # the count limit alone guards an erasure.
    guard = evaluate_guard(
        planned=planned,
        target_entries_in_scope=planned,
        max_purge=request.max_purge,
        max_purge_fraction=1.0,
        force=request.force,
    )
    if guard.tripped:
        raise ErasureGuardTripped(
            f"the erasure would purge {planned:,} entries, over --max-purge "
            f"{request.max_purge:,}: nothing was deleted; raise --max-purge, or give --force"
        )


def _purge(request: ErasureRequest, run: ErasureRun, target: TargetErasure, number: int) -> None:
    folder = run.folder(f"targets/{number:02d}-{target.copy.bucket}/")
    entries = EntriesWriter(folder)

    def on_outcome(record: OutcomeRecord) -> None:
        target.outcomes.append((record, run.clock()))
        entries.write(record_to_line(record, run.erasure_id))

    try:
        purge_plan(
            target.plan,
            source=run.source,
            target=run.targets,
            settings=PurgeSettings(
                target_bucket=target.copy.bucket,
                source_bucket=request.source.bucket,
                bypass_governance=request.bypass_governance,
                target_object_lock=target.object_lock,
            ),
            on_outcome=on_outcome,
            journal=BatchJournal(folder, run.erasure_id),
        )
    finally:
        entries.close()
    purged = sum(1 for r, _ in target.outcomes if r.outcome.value == "purged")
    run.say(f"purged {purged:,} entries from {target.copy.uri}")


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
