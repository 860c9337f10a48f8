"""The guard (DESIGN §5): a plan too large for its scope deletes nothing unless forced."""

from __future__ import annotations

import math

from syncpurge.models import GuardDecision


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
    fraction_limit = math.floor(max_purge_fraction * target_entries_in_scope)
    reasons = []
    if planned > max_purge:
        reasons.append(f"plan of {planned} entries exceeds maxPurge {max_purge}")
    if planned > fraction_limit:
        reasons.append(
            f"plan of {planned} entries exceeds maxPurgeFraction {max_purge_fraction} of "
            f"{target_entries_in_scope} target entries in scope ({fraction_limit})"
        )
    if reasons and not force:
        reasons.append(
            "nothing was deleted; to let it through, review the plan, then raise maxPurge "
            "(--max-purge) or maxPurgeFraction (--max-purge-fraction), or set force: true "
            "(--force)"
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
