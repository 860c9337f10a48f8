"""Approve, then purge (issue 9, DESIGN §5 and §7 applyPlan): a dry run's stored plan,
applied later, purges exactly that plan, each entry re-checked against fresh listings."""

from __future__ import annotations

import pytest

from tests.workflow.conftest import Deployed

pytestmark = pytest.mark.workflow

LIMITS = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True, "skipSync": True}


def test_a_dry_runs_plan_applied_later_purges_exactly_it_and_skips_what_went_stale(
    deployed: Deployed,
) -> None:
    # Given three keys only the target holds, and one both hold
    pair = deployed.pair
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)
    for key in ("gone-1", "gone-2", "gone-3"):
        pair.put(key, "x", bucket=pair.target)
    # ... and a dry run that planned them
    dry = deployed.run({**LIMITS, "dryRun": True})
    assert dry.status == "SUCCEEDED", dry.cause
    run_id = (dry.output or {})["summary"]["runId"]
    assert (dry.output or {})["summary"]["totals"]["planned"] == 3
    # When, before it is applied, gone-2 reappears in the source and gone-4 appears
    pair.put("gone-2", "back")
    pair.put("gone-4", "x", bucket=pair.target)

    applied = deployed.run({**LIMITS, "applyPlan": run_id})

    # Then exactly the plan's entries that still qualify are purged
    assert applied.status == "SUCCEEDED", applied.cause
    summary, lines = deployed.report(applied)
    assert summary["appliedPlan"] == run_id
    outcomes = {line["key"]: (line["outcome"], line["reason"]) for line in lines}
    assert outcomes["gone-1"][0] == "purged"
    assert outcomes["gone-3"][0] == "purged"
    assert outcomes["gone-2"] == ("skipped", "stale")
    assert "gone-4" not in outcomes  # not in the applied plan: untouched
    assert pair.all_keys() == {"live", "gone-2", "gone-4"}
    # The guard counted the plan as stored
    assert summary["totals"]["planned"] == 3
    assert summary["guard"]["planned"] == 3


@pytest.mark.parametrize(
    ("apply_plan", "named"),
    [("no-such-run", "applyPlan: no stored plan"), ("bad id/with slash", "applyPlan")],
)
def test_an_unknown_or_malformed_plan_is_invalid_input_and_nothing_is_deleted(
    deployed: Deployed, apply_plan: str, named: str
) -> None:
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)
    before = deployed.pair.entries()

    result = deployed.run({**LIMITS, "applyPlan": apply_plan})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert named in (result.cause or "")
    assert deployed.pair.entries() == before
