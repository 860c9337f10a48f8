"""One reconcile run, start to finish: preflight, diff, plan, guard, purge, report.

The CLI calls `reconcile`; the state machine's handlers call the same steps one at a time
(`diff_scope`, `evaluate_guard`, `purge_plan`) on work items.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from syncpurge.apply import StoredPlan, fresh_plan, in_run_scope, recheck
from syncpurge.diff import DiffCursor, DiffStats, SideCursor, diff_histories
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.guard import evaluate_guard
from syncpurge.keyspace import KeyRange
from syncpurge.lineage import LineageIndex, doubted_advisory
from syncpurge.listing import key_histories, prefetched
from syncpurge.models import (
    KeyHistory,
    Outcome,
    PlannedEntry,
    ReconcileRequest,
    RequestCounts,
    RunStatus,
    Summary,
)
from syncpurge.plan import PlanSpool
from syncpurge.preflight import check_related, run_preflight
from syncpurge.proof import KeyTally, resolve
from syncpurge.purge import OutcomeRecord, PurgeSettings, purge_plan, skipped_record
from syncpurge.report import (
    BatchJournal,
    EntriesWriter,
    OutcomeTally,
    ReportDestination,
    record_to_line,
    set_totals,
    write_plan,
    write_summary,
)
from syncpurge.rules import DiffPolicy, LineageLookup
from syncpurge.s3shapes import ListingPage
from syncpurge.s3store import S3Store
from syncpurge.scope import Scope


class ProgressListener(Protocol):
    def phase(self, name: str) -> None: ...
    def listed(self, side: str, entries: int) -> None: ...
    def planned(self, item: PlannedEntry) -> None: ...
    def outcome(self, record: OutcomeRecord) -> None: ...


class NullProgress:
    def phase(self, name: str) -> None:
        pass

    def listed(self, side: str, entries: int) -> None:
        pass

    def planned(self, item: PlannedEntry) -> None:
        pass

    def outcome(self, record: OutcomeRecord) -> None:
        pass


@dataclass(slots=True)
class RunResult:
    summary: Summary
    # Set when the run was refused before anything could be deleted (exit code 2).
    refusal: str | None = None
    # Set when Ctrl-C stopped the run; its partial report and journal were still written.
    interrupted: bool = False


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def policy_for(
    request: ReconcileRequest, run_started: datetime, *, lineage: LineageLookup | None = None
) -> DiffPolicy:
    # Entries written after the run started are never judged, even with grace 0: they may
    # be a sync or a replication still landing.
    cutoff = run_started - timedelta(minutes=request.effective_grace_minutes)
    return DiffPolicy(
        mode=request.mode, rules=frozenset(request.rules), grace_cutoff=cutoff, lineage=lineage
    )


def diff_scope(
    *,
    source: S3Store,
    target: S3Store,
    source_bucket: str,
    target_bucket: str,
    prefix: str,
    policy: DiffPolicy,
    on_plan: Callable[[PlannedEntry], None],
    progress: ProgressListener,
    scope: Scope | None = None,
    resume: DiffCursor | None = None,
    key_range: KeyRange | None = None,
    should_stop: Callable[[], bool] | None = None,
    sampler: Callable[[str, Iterator[KeyHistory]], Iterator[KeyHistory]] | None = None,
) -> DiffStats:
    """Diff one relative prefix of the scope, or one key range of it, listing both sides
    concurrently. `sampler(side, histories)` may wrap a side's histories (to note
    boundary keys).

    The diff's candidates go through the HeadObject tiers (`syncpurge.proof`) before they
    reach `on_plan`, so what is planned carries its proof.
    """
    scope = scope or Scope()
    key_range = key_range or KeyRange()
    stats = DiffStats()
    after_key = resume.after_key if resume else key_range.after
    inside = resume.inside if resume else None
    up_to = key_range.up_to

    def pages(
        store: S3Store, bucket: str, to_bucket: Callable[[str], str], side: SideCursor | None
    ) -> Generator[ListingPage, None, None]:
        if side is not None and side.exhausted:
            return prefetched(iter(()))
        return prefetched(
            store.list_pages(
                bucket,
                to_bucket(prefix),
                start=side.marker if side else None,
                after=to_bucket(after_key) if after_key is not None else None,
                up_to=to_bucket(up_to) if up_to is not None else None,
            )
        )

    def histories(
        side: str, listing: Iterator[ListingPage], root: str, **extra: Any
    ) -> Iterator[KeyHistory]:
        listed = key_histories(
            listing,
            lambda n: progress.listed(side, n),
            after_key=after_key,
            root=root,
            admits=scope.admits,
            up_to=up_to,
            **extra,
        )
        return sampler(side, listed) if sampler is not None else listed

    source_pages = pages(source, source_bucket, scope.source_key, resume.source if resume else None)
    target_pages = pages(target, target_bucket, scope.target_key, resume.target if resume else None)
    with closing(source_pages), closing(target_pages):
        candidates = diff_histories(
            # the source looks one key past the range: a folder's content may lie there
            histories("source", source_pages, scope.source_root, lookahead=True),
            histories(
                "target",
                target_pages,
                scope.target_root,
                inside=(inside.key, inside.after_version) if inside else None,
            ),
            policy,
            stats,
            start_after_key=after_key,
            should_stop=should_stop,
            source_key=scope.source_key,
            inside=inside,
            up_to=up_to,
        )
        # A key the previous slice stopped inside goes on counting from where it was.
        tally = KeyTally(
            scope.target_key(inside.key) if inside else None, inside.purged if inside else 0
        )
        for item in resolve(
            candidates,
            source=source,
            target=target,
            source_bucket=source_bucket,
            target_bucket=target_bucket,
            tally=tally,
        ):
            on_plan(item)
    stopped = stats.cursor.inside if stats.cursor else None
    if stats.cursor is not None and stopped is not None:
        purged = tally.purged if tally.key == scope.target_key(stopped.key) else 0
        stats.cursor = replace(stats.cursor, inside=replace(stopped, purged=purged))
    return stats


def reconcile(
    request: ReconcileRequest,
    *,
    source_bucket: str,
    target_bucket: str,
    source: S3Store,
    target: S3Store,
    destination: ReportDestination,
    progress: ProgressListener | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
    scope: Scope | None = None,
    report_bucket: str | None = None,
    lineage: LineageIndex | None = None,
    stored_plan: StoredPlan | None = None,
) -> RunResult:
    """Reconcile `target_bucket` with `source_bucket` within the scope and the request's
    prefixes. `report_bucket` is where the report destination lies (None: not in S3).
    With `stored_plan`, that plan is re-checked and applied instead of a new diff."""
    progress = progress or NullProgress()
    scope = scope or Scope()
    started = now or datetime.now(UTC)
    if stored_plan is not None:
        request = stored_plan.request_for(request)
    summary = Summary(
        run_id=run_id or new_run_id(started),
        status=RunStatus.FAILED,
        mode=request.mode,
        dry_run=request.dry_run,
        applied_plan=request.apply_plan,
        source_bucket=source_bucket,
        target_bucket=target_bucket,
        scope=scope.describe(),
        prefixes=request.scope_prefixes(),
        started_at=started,
    )
    result = RunResult(summary)
    stats = DiffStats()
    tally = OutcomeTally()
    spool = PlanSpool()
    writer = EntriesWriter(destination)

    def record(outcome: OutcomeRecord) -> None:
        line = record_to_line(outcome, summary.run_id)
        writer.write(line)
        tally.add(line)
        progress.outcome(outcome)

    def plan(item: PlannedEntry) -> None:
        spool.write(item)
        progress.planned(item)

    def planned_count() -> int:
        # The guard and the report count a plan as it was made (an applied one: as stored).
        return int(stored_plan.figures["planned"]) if stored_plan else spool.counts.planned

    try:
        progress.phase("preflight")
        scope.check()
        for prefix in request.prefixes:
            scope.check_prefix(prefix)
        preflight = run_preflight(
            source, target, source_bucket, target_bucket, report_bucket=report_bucket
        )
        summary.advisories = preflight.advisories
        policy = policy_for(request, started, lineage=lineage.lookup if lineage else None)
        progress.phase("diff")
        if stored_plan is not None:
            fresh = fresh_plan(
                source=source,
                target=target,
                source_bucket=source_bucket,
                target_bucket=target_bucket,
                policy=policy,
                scope=scope,
            )
            in_scope = in_run_scope(scope, summary.prefixes)
            for item in recheck(stored_plan.entries(), fresh, in_scope):
                plan(item)
            figures = stored_plan.figures
            stats.source_entries = figures.get("sourceEntries", 0)
            stats.target_entries = figures.get("targetEntries", 0)
            stats.keys_in_both = figures.get("keysInBoth", 0)
        else:
            for prefix in summary.prefixes:
                stats.add(
                    diff_scope(
                        source=source,
                        target=target,
                        source_bucket=source_bucket,
                        target_bucket=target_bucket,
                        prefix=prefix,
                        policy=policy,
                        on_plan=plan,
                        progress=progress,
                        scope=scope,
                    )
                )
        if stats.lineage_doubted_keys:
            summary.advisories.append(doubted_advisory(stats.lineage_doubted_keys))
        planned = planned_count()
        check_related(
            source_entries=stats.source_entries,
            target_entries=stats.target_entries,
            keys_in_both=stats.keys_in_both,
            allow_unrelated=request.allow_unrelated_source,
        )
        guard = evaluate_guard(
            planned=planned,
            target_entries_in_scope=stats.target_entries,
            max_purge=request.max_purge,
            max_purge_fraction=request.max_purge_fraction,
            force=request.force,
        )
        summary.guard = guard
        # Before the first delete: the plan, which proves the destination takes writes.
        write_plan(
            destination,
            summary,
            spool.lines(),
            {
                "planned": planned,
                "sourceEntries": stats.source_entries,
                "targetEntries": stats.target_entries,
                "keysInBoth": stats.keys_in_both,
                "mode": request.mode.value,
                "rules": [rule.value for rule in request.rules],
                "prefixes": request.prefixes,
            },
        )
        if request.dry_run or guard.tripped:
            progress.phase("report")
            record_without_purging(spool, record)
            summary.status = RunStatus.DRY_RUN if request.dry_run else RunStatus.GUARD_TRIPPED
        else:
            progress.phase("purge")
            purge_plan(
                spool.read(),
                source=source,
                target=target,
                settings=PurgeSettings(
                    target_bucket=target_bucket,
                    source_bucket=source_bucket,
                    bypass_governance=request.bypass_governance,
                    target_object_lock=preflight.target_object_lock,
                ),
                on_outcome=record,
                journal=BatchJournal(destination, summary.run_id),
            )
            summary.status = final_status(tally)
            if tally.totals.failed:
                summary.error = f"{tally.totals.failed} entries failed to delete; see entries"
    except (PreflightRefused, InvalidInput) as err:
        summary.error = result.refusal = str(err)
    except KeyboardInterrupt:
        result.interrupted = True
        summary.status = RunStatus.FAILED
        summary.error = "interrupted (Ctrl-C): the entries sent before it are in the report"
    except Exception as err:
        summary.error = f"{type(err).__name__}: {err}"
    finally:
        spool.close()
    try:
        writer.close()
    except Exception as err:
        summary.error = f"{summary.error or ''} entries could not be written: {err}".strip()
    set_totals(
        summary,
        source_entries=stats.source_entries,
        target_entries=stats.target_entries,
        planned=planned_count(),
        tally=tally,
    )
    summary.requests = request_counts(source, target)
    summary.finished_at = datetime.now(UTC)
    try:
        write_summary(destination, summary)
    except Exception as err:  # the caller still has the summary to show
        problem = f"the report could not be written to {destination.location}: {err}"
        summary.status = RunStatus.FAILED
        summary.error = f"{summary.error}; {problem}" if summary.error else problem
    return result


def record_without_purging(spool: PlanSpool, record: Callable[[OutcomeRecord], None]) -> None:
    for item in spool.read():
        if item.to_purge:
            record(OutcomeRecord(item, Outcome.PLANNED, item.detail))
        else:
            record(skipped_record(item))


def final_status(tally: OutcomeTally) -> RunStatus:
    return RunStatus.FAILED if tally.totals.failed else RunStatus.SUCCEEDED


def request_counts(source: S3Store, target: S3Store) -> RequestCounts:
    counts = source.counter.snapshot()
    if target.counter is not source.counter:
        other = target.counter.snapshot()
        counts = RequestCounts(
            list=counts.list + other.list,
            delete=counts.delete + other.delete,
            verify=counts.verify + other.verify,
            head=counts.head + other.head,
        )
    return counts
