"""The Guard phase (refuse an unrelated source, apply the limits, decide whether to purge)
and the status a run ends with: one function each, for the state machine's Guard and
Report steps and for the CLI's run alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from syncpurge.core.guard import applied_plan_guard, evaluate_guard
from syncpurge.models import GuardDecision, ReconcileRequest, RunStatus
from syncpurge.phases.preflight import check_related
from syncpurge.phases.report import OutcomeTally


class Decision(StrEnum):
    PURGE = "purge"
    DRY_RUN = "dry-run"
    GUARD_TRIPPED = "guard-tripped"
    PRESERVE = "preserve"
    NOTHING = "nothing"


@dataclass(frozen=True, slots=True)
class DiffFigures:
    """What a run's diff (or its re-check of a stored plan) found, as the guard weighs it."""

    source_entries: int
    target_entries: int
    keys_in_both: int
    planned: int  # entries the plan purges (a stored plan's: as it was planned)
    skipped: int  # plan lines that purge nothing
    rechecked: int = 0  # a stored plan's entries its re-check still purges


@dataclass(frozen=True, slots=True)
class ReviewedPlan:
    """The stored plan a run applies: its run, and the guard that run decided."""

    run_id: str
    guard: GuardDecision


def guard_run(
    request: ReconcileRequest,
    figures: DiffFigures,
    *,
    reviewed: Callable[[], ReviewedPlan] | None,
    preserve_blocks: bool,
) -> tuple[GuardDecision, Decision]:
    """The Guard phase: refuse an unrelated source (whatever `force` says), then the guard
    (an applied plan's is the one it was reviewed with, read only then: applying it is the
    approval), then whether the run purges."""
    check_related(
        source_entries=figures.source_entries,
        target_entries=figures.target_entries,
        keys_in_both=figures.keys_in_both,
        allow_unrelated=request.allow_unrelated_source,
    )
    if reviewed is not None:
        plan = reviewed()
        guard = applied_plan_guard(plan.guard, rechecked=figures.rechecked, plan_run=plan.run_id)
    else:
        guard = evaluate_guard(
            planned=figures.planned,
            target_entries_in_scope=figures.target_entries,
            max_purge=request.max_purge,
            max_purge_fraction=request.max_purge_fraction,
            force=request.force,
        )
    decision = decide(
        request,
        guard,
        preserve_blocks=preserve_blocks,
        planned=figures.planned,
        skipped=figures.skipped,
    )
    return guard, decision


def decide(
    request: ReconcileRequest,
    guard: GuardDecision,
    *,
    preserve_blocks: bool,
    planned: int,
    skipped: int,
) -> Decision:
    """Whether a run purges: a dry run first, then the guard, then the task's PRESERVE
    (PreserveDeletedFiles withholds the purge); a plan with no line purges nothing."""
    if request.dry_run:
        return Decision.DRY_RUN
    if guard.tripped:
        return Decision.GUARD_TRIPPED
    if preserve_blocks:
        return Decision.PRESERVE
    if planned == 0 and skipped == 0:
        return Decision.NOTHING
    return Decision.PURGE


def final_status(
    error: tuple[str, str] | None, decision: Decision | str | None, tally: OutcomeTally
) -> tuple[RunStatus, str | None]:
    """The run's status and error: its failure, else what the guard decided, else what
    its deletes did."""
    if error is not None:
        return RunStatus.FAILED, f"{error[0]}: {error[1]}"
    if decision == Decision.GUARD_TRIPPED:
        return RunStatus.GUARD_TRIPPED, None
    if decision in (Decision.DRY_RUN, Decision.PRESERVE):
        return RunStatus.DRY_RUN, None
    if tally.totals.failed:
        return RunStatus.FAILED, f"{tally.totals.failed} entries failed to delete; see entries"
    return RunStatus.SUCCEEDED, None
