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

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.guard import evaluate_guard
from syncpurge.core.listing import key_histories
from syncpurge.core.proof import resolve
from syncpurge.core.rules import DiffPolicy
from syncpurge.data.s3shapes import ListingPage
from syncpurge.erasure.checks import (
    keys_with_entries,
    refuse_held_by_source,
    refuse_outside,
    refuse_own_keys,
    refuse_unlike_s3_paging,
    refuse_unrelated_source,
)
from syncpurge.erasure.keys import Copy, start_marker
from syncpurge.erasure.listing import KeyListing
from syncpurge.erasure.run import (
    ErasureGuardTripped,
    ErasureIncomplete,
    ErasureRequest,
    ErasureResult,
    ErasureRun,
    TargetErasure,
    listed,
)
from syncpurge.models import Mode, Outcome, PlannedEntry, Rule
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings
from syncpurge.phases.preflight import run_preflight
from syncpurge.phases.purge import purge_plan
from syncpurge.phases.report import (
    BatchJournal,
    EntriesWriter,
    record_to_line,
    write_started,
)


def erase(request: ErasureRequest, run: ErasureRun) -> ErasureResult:
    started = run.clock()
    # The preflight first: it refuses a report folder in the source before anything is
    # written there (invariant 2); then the folder's first write proves it takes writes.
    object_locks = [_preflight(request, run, copy) for copy in request.targets]
    write_started(run.folder(""), {"erasureId": run.erasure_id, "startedAt": started.isoformat()})
    keys = request.keys or _keys_under_prefix(request, run)
    refuse_own_keys(request, run, keys)
    refuse_outside(run, keys)
    refuse_held_by_source(request, run, keys)
    refuse_unrelated_source(request, run, keys)
    policy = DiffPolicy(Mode.DATASYNC, frozenset({Rule.VANISHED_KEY}), started, None)
    targets = []
    for copy, lock in zip(request.targets, object_locks, strict=True):
        before = listed(run, run.targets, copy, keys, "listed")
        plan = plan_target(before, copy, request.source, policy, run)
        targets.append(TargetErasure(copy, lock, before, plan))
    _check_paging(run, targets)
    _guard(request, sum(1 for t in targets for p in t.plan if p.to_purge))
    try:
        for number, target in enumerate(targets, start=1):
            _purge(request, run, target, number)
            target.after = listed(run, run.targets, target.copy, keys, "re-listed")
        source_after = listed(run, run.source, request.source, keys, "re-listed")
    except Exception as err:
        raise ErasureIncomplete(stopped(run, targets, err)) from err
    return ErasureResult(started, keys, source_after, targets)


def stopped(run: ErasureRun, targets: list[TargetErasure], err: BaseException) -> str:
    """One line for an erasure that stopped after its purge began: how much went, where
    its journal is, and why."""
    purged = sum(1 for t in targets for r, _ in t.outcomes if r.outcome is Outcome.PURGED)
    return (
        f"the erasure stopped after purging {purged:,} entries ({type(err).__name__}: {err}); "
        f"every batch sent is in its journal under {run.folder('').location}, and no receipt "
        "was written: run it again to finish and get one"
    )


def _check_paging(run: ErasureRun, targets: list[TargetErasure]) -> None:
    """A copy that holds nothing beside the named keys pages as S3 does too (checked on a
    named key it holds) before anything of it is deleted (`refuse_unlike_s3_paging`)."""
    for target in targets:
        present = next((f for f in target.before.values() if f.entries), None)
        if present is not None:
            refuse_unlike_s3_paging(run.targets, target.copy.bucket, present.entries[0].key)


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


def _keys_under_prefix(request: ErasureRequest, run: ErasureRun) -> tuple[str, ...]:
    """A prefix's keys: every key the targets hold under it (relative to their roots)."""
    assert request.prefix is not None
    found: set[str] = set()
    for copy in request.targets:
        under = copy.bucket_key(request.prefix)
        found.update(k[len(copy.root) :] for k in keys_with_entries(run.targets, copy, under))
    keys = tuple(sorted(found))
    run.say(f"{len(keys):,} keys under prefix {request.prefix!r} on the targets")
    return keys


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
