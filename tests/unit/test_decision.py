"""The Guard phase (phases.decision), as the state machine's Guard step and the CLI's run
both take it, and the policy's refusal of a plan of another mode."""

from __future__ import annotations

import re

import pytest

from syncpurge.core.policy import Place, PolicySettings, build_policy
from syncpurge.errors import InvalidInput, UnrelatedSource
from syncpurge.models import GuardDecision, Mode, ReconcileRequest, RunStatus
from syncpurge.phases.decision import (
    Decision,
    DiffFigures,
    ReviewedPlan,
    decide,
    final_status,
    guard_run,
)
from syncpurge.phases.report import OutcomeTally

pytestmark = pytest.mark.unit


def figures(**changes: int) -> DiffFigures:
    values = {"source_entries": 100, "target_entries": 100, "keys_in_both": 90}
    values |= {"planned": 3, "skipped": 0, **changes}
    return DiffFigures(**values)


def guard(*, tripped: bool = False, planned: int = 3) -> GuardDecision:
    return GuardDecision(
        tripped=tripped,
        forced=False,
        planned=planned,
        target_entries_in_scope=100,
        max_purge=100_000,
        max_purge_fraction=0.05,
        reason="limit" if tripped else None,
    )


@pytest.mark.parametrize(
    ("dry_run", "tripped", "preserve", "planned", "skipped", "expected"),
    [
        (True, True, True, 3, 0, Decision.DRY_RUN),  # a dry run first
        (False, True, True, 3, 0, Decision.GUARD_TRIPPED),  # then the guard
        (False, False, True, 3, 0, Decision.PRESERVE),  # then PRESERVE
        (False, False, False, 0, 0, Decision.NOTHING),  # an empty plan
        (False, False, False, 0, 2, Decision.PURGE),  # skips are still reported lines
        (False, False, False, 3, 0, Decision.PURGE),
    ],
)
def test_decide_orders_dry_run_guard_preserve_then_the_plan(
    *, dry_run: bool, tripped: bool, preserve: bool, planned: int, skipped: int, expected: Decision
) -> None:
    request = ReconcileRequest(dryRun=dry_run)
    decided = decide(
        request, guard(tripped=tripped), preserve_blocks=preserve, planned=planned, skipped=skipped
    )
    assert decided is expected


@pytest.mark.parametrize(
    ("decision", "failed", "expected"),
    [
        (Decision.GUARD_TRIPPED, 0, RunStatus.GUARD_TRIPPED),
        (Decision.DRY_RUN, 0, RunStatus.DRY_RUN),
        (Decision.PRESERVE, 0, RunStatus.DRY_RUN),
        (Decision.NOTHING, 0, RunStatus.SUCCEEDED),
        (Decision.PURGE, 0, RunStatus.SUCCEEDED),
        (Decision.PURGE, 2, RunStatus.FAILED),
    ],
)
def test_final_status_follows_the_decision_then_the_deletes(
    decision: Decision, failed: int, expected: RunStatus
) -> None:
    tally = OutcomeTally()
    for _ in range(failed):
        tally.add({"outcome": "failed", "rule": "vanished-key", "size": 1, "proof": None})
    status, error = final_status(None, decision, tally)
    assert status is expected
    assert (error is not None) == (expected is RunStatus.FAILED)
    assert final_status(("RunFailed", "why"), decision, tally) == (
        RunStatus.FAILED,
        "RunFailed: why",
    )


@pytest.mark.parametrize("found", [{"source_entries": 0}, {"keys_in_both": 0}])
def test_an_unrelated_source_is_refused_whatever_force_says(found: dict[str, int]) -> None:
    # An empty source, or one that shares no key with the target
    with pytest.raises(UnrelatedSource):
        guard_run(
            ReconcileRequest(force=True), figures(**found), reviewed=None, preserve_blocks=False
        )


def test_a_fresh_plan_is_weighed_against_the_limits() -> None:
    decided = guard_run(
        ReconcileRequest(), figures(planned=50), reviewed=None, preserve_blocks=False
    )
    assert decided[0].tripped
    assert decided[1] is Decision.GUARD_TRIPPED


def test_an_applied_plan_keeps_its_reviewed_guard_and_may_not_grow() -> None:
    # Given a plan reviewed with 50 of 100 entries (its guard tripped then, and it was read)
    reviewed = ReviewedPlan("20261207T120000Z-abcdef", guard(tripped=True, planned=50))

    # When its re-check still purges 40: it is applied, not guarded again
    applied, decision = guard_run(
        ReconcileRequest(applyPlan=reviewed.run_id),
        figures(planned=50, rechecked=40),
        reviewed=lambda: reviewed,
        preserve_blocks=False,
    )
    assert not applied.tripped
    assert decision is Decision.PURGE

    # And a plan whose files now hold more than it was reviewed with is refused
    with pytest.raises(InvalidInput, match="more than the 50"):
        guard_run(
            ReconcileRequest(applyPlan=reviewed.run_id),
            figures(planned=50, rechecked=51),
            reviewed=lambda: reviewed,
            preserve_blocks=False,
        )


def test_an_unrelated_source_is_refused_before_the_applied_plan_is_read() -> None:
    # The state machine records an unrelated source's refusal for the event path: a stored
    # plan that can't be read must not hide it (review, this session)
    def unreadable() -> ReviewedPlan:
        raise InvalidInput("applyPlan: run 'x' never finished its plan")

    with pytest.raises(UnrelatedSource):
        guard_run(
            ReconcileRequest(applyPlan="x"),
            figures(keys_in_both=0),
            reviewed=unreadable,
            preserve_blocks=False,
        )


@pytest.mark.parametrize(
    ("mode_setting", "said"),
    [
        ("", "mode: this deployment runs in replication mode (its setting 'mode')"),
        ("--mode", "--mode replication: run 20261207T120000Z-abcdef's plan was made in datasync"),
    ],
)
def test_a_plan_of_another_mode_is_refused_by_the_policy(mode_setting: str, said: str) -> None:
    # A deployment (its setting) and the CLI (its --mode) refuse alike, each in its words
    settings = PolicySettings(
        source_bucket="s",
        target_bucket="t",
        mode=Mode.REPLICATION,
        mode_setting=mode_setting,
        report=Place(None, "reports/"),
    )
    request = ReconcileRequest(applyPlan="20261207T120000Z-abcdef", mode=Mode.DATASYNC)

    with pytest.raises(InvalidInput, match=re.escape(said)):
        build_policy(settings, None, request, run_id="20261207T130000Z-123456")
