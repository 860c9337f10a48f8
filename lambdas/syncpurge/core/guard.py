"""The guard (docs/design.md §5): a plan too large for its scope deletes nothing unless forced.

A run that applies a stored plan (`applyPlan`) is not guarded again: the plan was guarded
when it was made, a person reviewed it, and applying it by its run id is the approval.
Its re-check can only shrink it (`syncpurge.phases.apply.Recheck` adds nothing), so it never
deletes more than the plan that was reviewed; `applied_plan_guard` refuses one that would.
"""

from __future__ import annotations

import math

from syncpurge.errors import InvalidInput
from syncpurge.models import GuardDecision


def fraction_limit(max_purge_fraction: float, target_entries_in_scope: int) -> int:
    """The most entries maxPurgeFraction lets a plan hold."""
    return math.floor(max_purge_fraction * target_entries_in_scope)


def evaluate_guard(
    *,
    planned: int,
    target_entries_in_scope: int,
    max_purge: int,
    max_purge_fraction: float,
    force: bool,
) -> GuardDecision:
    # The fraction limit is what stops an empty or wrong source listing from emptying the
    # target: such a listing plans (nearly) every target entry.
    share = fraction_limit(max_purge_fraction, target_entries_in_scope)
    reasons = []
    if planned > max_purge:
        reasons.append(f"plan of {planned} entries exceeds maxPurge {max_purge}")
    if planned > share:
        reasons.append(
            f"plan of {planned} entries exceeds maxPurgeFraction {max_purge_fraction} of "
            f"{target_entries_in_scope} target entries in scope (a limit of {share})"
        )
    if reasons and not force:
        reasons.append(
            "nothing was deleted; to let it through, review the plan, then apply it by this "
            "run's id (applyPlan, --apply-plan RUN_ID: a reviewed plan needs no force), or "
            "raise maxPurge (--max-purge) or maxPurgeFraction (--max-purge-fraction), or set "
            "force: true (--force)"
        )
    return GuardDecision(
        tripped=bool(reasons) and not force,
        forced=bool(reasons) and force,
        planned=planned,
        target_entries_in_scope=target_entries_in_scope,
        max_purge=max_purge,
        max_purge_fraction=max_purge_fraction,
        reason="; ".join(reasons) or None,
    )


def applied_plan_guard(reviewed: GuardDecision, *, rechecked: int, plan_run: str) -> GuardDecision:
    """The guard of a run that applies run `plan_run`'s stored plan: that plan's own
    figures (`reviewed`, as its run decided them), never tripped.

    `rechecked` is how many entries the re-check still purges. It is at most the plan's
    count by construction; a plan whose files were edited to hold more than was planned
    and reviewed is refused here, before anything is deleted.
    """
    if rechecked > reviewed.planned:
        raise InvalidInput(
            f"applyPlan: run {plan_run!r}'s stored plan now holds {rechecked} entries to "
            f"purge, more than the {reviewed.planned} it planned and was reviewed with (its "
            "plan files were changed): nothing was deleted; make and review a new plan"
        )
    return reviewed.model_copy(
        update={
            "tripped": False,
            "forced": False,
            "reason": (
                f"not evaluated again: this run applies run {plan_run}'s reviewed plan, whose "
                f"figures these are; re-checked, it purges {rechecked} of its "
                f"{reviewed.planned} entries (a re-check only shrinks a plan)"
            ),
        }
    )
