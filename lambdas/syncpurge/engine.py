"""One reconcile run, start to finish: preflight, diff, plan, guard, purge, report.

The CLI calls `reconcile`; the state machine's handlers call the same steps one at a time
(`diff_scope`, `evaluate_guard`, `purge_plan`) on work items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from syncpurge.core.diff import DiffStats
from syncpurge.core.lineage import LineageIndex, doubted_advisory, stray_files_advisory
from syncpurge.core.plan import PlanSpool
from syncpurge.core.policy import RunPolicy
from syncpurge.core.rules import DiffPolicy
from syncpurge.core.run_ids import new_run_id
from syncpurge.core.scope import Scope
from syncpurge.data.s3store import S3Store
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.models import PlannedEntry, ReconcileRequest, RunStatus
from syncpurge.phases.apply import PairAccess, StoredPlan, in_run_scope
from syncpurge.phases.apply_ranges import RangeFresh
from syncpurge.phases.decision import Decision, DiffFigures, ReviewedPlan, final_status, guard_run
from syncpurge.phases.diffing import NullProgress, ProgressListener, policy_for
from syncpurge.phases.fanout import diff_prefixes
from syncpurge.phases.fanout_purge import purge_in_parts
from syncpurge.phases.fanout_recheck import Recheck, RecheckCount, recheck_in_parts
from syncpurge.phases.preflight import PreflightResult, run_preflight
from syncpurge.phases.purge import OutcomeRecord, PurgeSettings, purge_plan, unpurged_record
from syncpurge.phases.report import (
    BatchJournal,
    EntriesWriter,
    OutcomeTally,
    ReportDestination,
    record_to_line,
    set_totals,
    write_plan,
    write_summary,
)
from syncpurge.summary import RequestCounts, Summary


@dataclass(slots=True)
class RunResult:
    summary: Summary
    # Set when the run was refused before anything could be deleted (exit code 2).
    refusal: str | None = None
    # Set when Ctrl-C stopped the run; its partial report and journal were still written.
    interrupted: bool = False


def reconcile(
    policy: RunPolicy,
    *,
    source: S3Store,
    target: S3Store,
    destination: ReportDestination,
    progress: ProgressListener | None = None,
    run_id: str | None = None,
    now: datetime | None = None,
    lineage: LineageIndex | None = None,
    stored_plan: StoredPlan | None = None,
    workers: int = 1,
) -> RunResult:
    """Reconcile the target with the source as the door's `policy` (syncpurge.core.policy)
    allows: its request, its scope, its report bucket, and whether its task withholds the
    purge (PreserveDeletedFiles=PRESERVE). The policy checked the request and the scope;
    the run checks nothing of them again. With `stored_plan` (whose request the policy
    was built from: `StoredPlan.request_for`), that plan is re-checked and applied instead
    of a new diff. A new diff runs on `workers` threads, over key ranges cut for them."""
    started = now or datetime.now(UTC)
    request, settings = policy.request, policy.settings
    run = Reconcile(
        request,
        pair=Pair(source, target, settings.source_bucket, settings.target_bucket),
        destination=destination,
        progress=progress or NullProgress(),
        scope=policy.scope,
        run_id=run_id or new_run_id(started),
        started=started,
        stored_plan=stored_plan,
        workers=workers,
    )
    result = RunResult(run.summary)
    try:
        preflight = run.preflight(policy.report.bucket)
        run.summary.advisories += policy.advisories
        if lineage is not None and lineage.stray_files:
            run.summary.advisories.append(stray_files_advisory(lineage.stray_files))
        run.diff(policy_for(request, started, lineage=lineage.lookup if lineage else None))
        decision = run.plan_and_guard(policy.preserve_blocks)
        if decision is Decision.PURGE:
            run.purge(preflight)
        else:
            run.record_without_purging(decision)
    except (PreflightRefused, InvalidInput) as err:
        run.summary.error = result.refusal = str(err)
    except KeyboardInterrupt:
        result.interrupted = True
        run.summary.status = RunStatus.FAILED
        run.summary.error = "interrupted (Ctrl-C): the entries sent before it are in the report"
    except Exception as err:
        run.summary.error = f"{type(err).__name__}: {err}"
    finally:
        run.spool.close()
    run.finish()
    return result


@dataclass(frozen=True, slots=True)
class Pair:
    """The two buckets of a run and the data access to each."""

    source: S3Store
    target: S3Store
    source_bucket: str
    target_bucket: str


class Reconcile:
    """One CLI run's state, carried from phase to phase: preflight, diff (or the re-check
    of a stored plan), plan and guard, purge (or record the plan without purging), finish.
    Each phase is a method; `reconcile` calls them in order and turns errors into the
    report's words."""

    def __init__(
        self,
        request: ReconcileRequest,
        *,
        pair: Pair,
        destination: ReportDestination,
        progress: ProgressListener,
        scope: Scope,
        run_id: str,
        started: datetime,
        stored_plan: StoredPlan | None,
        workers: int = 1,
    ) -> None:
        self.request, self.pair, self.destination = request, pair, destination
        self.workers = workers
        self.progress, self.scope, self.stored_plan = progress, scope, stored_plan
        self.summary = Summary.begun(
            request,
            run_id=run_id,
            source_bucket=pair.source_bucket,
            target_bucket=pair.target_bucket,
            source_region=pair.source.region(pair.source_bucket),
            target_region=pair.target.region(pair.target_bucket),
            scope=scope.describe(),
            started_at=started,
        )
        self.stats = DiffStats()
        self.tally = OutcomeTally()
        self.spool = PlanSpool()
        self.writer = EntriesWriter(destination)

    # ------------------------------------------------------------------ sinks

    def record(self, outcome: OutcomeRecord) -> None:
        line = record_to_line(outcome, self.summary.run_id)
        self.writer.write(line)
        self.tally.add(line)
        self.progress.outcome(outcome)

    def planned_count(self) -> int:
        # The guard and the report count a plan as it was made (an applied one: as stored).
        if self.stored_plan is not None:
            return int(self.stored_plan.figures["planned"])
        return self.spool.counts.planned

    # ------------------------------------------------------------------ phases

    def preflight(self, report_bucket: str | None) -> PreflightResult:
        self.progress.phase("preflight")
        pair = self.pair
        preflight = run_preflight(
            pair.source,
            pair.target,
            pair.source_bucket,
            pair.target_bucket,
            report_bucket=report_bucket,
        )
        self.summary.advisories = preflight.advisories
        return preflight

    def diff(self, policy: DiffPolicy) -> None:
        """Plan anew from both listings, or re-check the stored plan; then the advisories."""
        self.progress.phase("diff")
        stats = self.stats
        if self.stored_plan is not None:
            access, prefixes = self.access(policy), self.request.scope_prefixes()
            how = Recheck(
                new_fresh=lambda: RangeFresh(access, prefixes, progress=self.progress),
                in_scope=in_run_scope(self.scope, self.summary.prefixes),
                progress=self.progress,
                count=RecheckCount(int(self.stored_plan.figures["planned"]), self.progress),
            )
            recheck_in_parts(
                self.stored_plan.entries(), workers=self.workers, how=how, plan=self.spool
            )
            figures = self.stored_plan.figures
            stats.source_entries = figures.get("sourceEntries", 0)
            stats.target_entries = figures.get("targetEntries", 0)
            stats.keys_in_both = figures.get("keysInBoth", 0)
        else:
            stats.add(
                diff_prefixes(
                    self.summary.prefixes,
                    self.access(policy),
                    workers=self.workers,
                    plan=self.spool,
                    progress=self.progress,
                )
            )
        if stats.lineage_doubted_keys:
            self.summary.advisories.append(doubted_advisory(stats.lineage_doubted_keys))

    def access(self, policy: DiffPolicy) -> PairAccess:
        pair = self.pair
        return PairAccess(
            pair.source, pair.target, pair.source_bucket, pair.target_bucket, policy, self.scope
        )

    def plan_and_guard(self, preserve_blocks: bool) -> Decision:
        """Refuse an unrelated source, decide the guard, and write the plan: before the
        first delete, and proof that the destination takes writes. Then whether the run
        purges, as the state machine's Guard decides it."""
        request, stats = self.request, self.stats
        planned = self.planned_count()
        guard, decision = guard_run(
            request,
            DiffFigures(
                source_entries=stats.source_entries,
                target_entries=stats.target_entries,
                keys_in_both=stats.keys_in_both,
                planned=planned,
                skipped=self.spool.counts.skipped,
                rechecked=self.spool.counts.planned,
            ),
            reviewed=self.reviewed_plan if self.stored_plan is not None else None,
            preserve_blocks=preserve_blocks,
        )
        self.summary.guard = guard
        write_plan(
            self.destination,
            self.summary,
            self.spool.lines(),
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
        return decision

    def reviewed_plan(self) -> ReviewedPlan:
        """The applied plan's run and the guard it was reviewed with."""
        assert self.stored_plan is not None
        return ReviewedPlan(self.stored_plan.run_id, self.stored_plan.reviewed_guard(self.request))

    def record_without_purging(self, decision: Decision) -> None:
        self.progress.phase("report")
        for item in self.spool.read():
            self.record(unpurged_record(item))
        self.summary.status, _ = final_status(None, decision, self.tally)

    def purge(self, preflight: PreflightResult) -> None:
        self.progress.phase("purge")
        pair = self.pair
        settings = PurgeSettings(
            target_bucket=pair.target_bucket,
            source_bucket=pair.source_bucket,
            bypass_governance=self.request.bypass_governance,
            target_object_lock=preflight.target_object_lock,
        )

        def purge_part(
            part: Iterator[PlannedEntry],
            number: int | None,
            on_outcome: Callable[[OutcomeRecord], None],
            stop: Callable[[], bool],
        ) -> None:
            stem = "batch-" if number is None else f"batch-{number:03d}-"
            purge_plan(
                part,
                source=pair.source,
                target=pair.target,
                settings=settings,
                on_outcome=on_outcome,
                journal=BatchJournal(self.destination, self.summary.run_id, stem),
                should_stop=stop,
            )

        purge_in_parts(
            self.spool, workers=self.workers, purge_part=purge_part, on_outcome=self.record
        )
        self.summary.status, error = final_status(None, Decision.PURGE, self.tally)
        if error is not None:
            self.summary.error = error

    def finish(self) -> None:
        """Totals, request counts and summary.json, whatever happened before."""
        summary = self.summary
        try:
            self.writer.close()
        except Exception as err:
            summary.error = f"{summary.error or ''} entries could not be written: {err}".strip()
        set_totals(
            summary,
            source_entries=self.stats.source_entries,
            target_entries=self.stats.target_entries,
            planned=self.planned_count(),
            tally=self.tally,
        )
        summary.requests = request_counts(self.pair.source, self.pair.target)
        summary.finished_at = datetime.now(UTC)
        try:
            write_summary(self.destination, summary)
        except Exception as err:  # the caller still has the summary to show
            problem = f"the report could not be written to {self.destination.location}: {err}"
            summary.status = RunStatus.FAILED
            summary.error = f"{summary.error}; {problem}" if summary.error else problem


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
