"""The state machine's door to an applied plan (issue 30): applying a reviewed plan by its
run id is its approval, so Guard does not trip on it again, as on the CLI; a plan that
would purge more than was planned and reviewed is refused."""

from __future__ import annotations

import json

import pytest

from tests.workflow.conftest import REPORTS, Deployed

pytestmark = pytest.mark.workflow

# The default guard (maxPurge 100000, maxPurgeFraction 0.05), and no --force
NO_LIMITS_RAISED = {"allowUnrelatedSource": True, "skipSync": True}


def planned_over_the_guard(deployed: Deployed) -> str:
    """A dry run's plan of 3 of 4 target entries (over 5%): its run id."""
    pair = deployed.pair
    pair.put_live()
    for key in ("gone-1", "gone-2", "gone-3"):
        pair.put(key, "x", bucket=pair.target)
    dry = deployed.run({**NO_LIMITS_RAISED, "dryRun": True})
    assert dry.status == "SUCCEEDED", dry.cause
    summary = (dry.output or {})["summary"]
    assert summary["guard"]["tripped"]  # a run that is not dry would delete nothing
    return str(summary["runId"])


def test_a_reviewed_plan_applied_by_its_run_id_is_not_guarded_again(deployed: Deployed) -> None:
    run_id = planned_over_the_guard(deployed)

    applied = deployed.run({**NO_LIMITS_RAISED, "applyPlan": run_id})

    assert applied.status == "SUCCEEDED", applied.cause
    summary, lines = deployed.report(applied)
    assert summary["status"] == "SUCCEEDED"
    assert {line["key"]: line["outcome"] for line in lines} == {
        "gone-1": "purged",
        "gone-2": "purged",
        "gone-3": "purged",
    }
    assert deployed.pair.all_keys() == {"live"}
    # The plan's own guard figures stay in the report
    guard = summary["guard"]
    assert (guard["tripped"], guard["forced"], guard["planned"]) == (False, False, 3)
    assert (guard["targetEntriesInScope"], guard["maxPurgeFraction"]) == (4, 0.05)
    assert f"applies run {run_id}'s reviewed plan" in guard["reason"]


def test_a_stored_plan_edited_to_purge_more_than_was_planned_is_refused(
    deployed: Deployed,
) -> None:
    run_id = planned_over_the_guard(deployed)
    # ... then gone-4 appears, and a line for it is added to the stored plan chunk
    pair = deployed.pair
    version = pair.put("gone-4", "x", bucket=pair.target)
    (chunk,) = [k for k in pair.all_keys(REPORTS) if "/plan/" in k and run_id in k]
    lines = pair.client.get_object(Bucket=REPORTS, Key=chunk)["Body"].read().splitlines()
    added = json.loads(lines[-1]) | {"k": "gone-4", "v": version}
    pair.client.put_object(
        Bucket=REPORTS, Key=chunk, Body=b"\n".join([*lines, json.dumps(added).encode()])
    )
    # and the chunk's recorded keys widened to match (the span check is not what is tested)
    for key in [k for k in pair.all_keys(REPORTS) if "/diff-stats/" in k and run_id in k]:
        stats = json.loads(pair.client.get_object(Bucket=REPORTS, Key=key)["Body"].read())
        for plan_key, spans in zip(stats["planKeys"], stats["chunkSpans"], strict=True):
            if plan_key == chunk:
                spans[1] = "gone-4"
        pair.client.put_object(Bucket=REPORTS, Key=key, Body=json.dumps(stats).encode())
    before = pair.entries()

    applied = deployed.run({**NO_LIMITS_RAISED, "applyPlan": run_id})

    assert applied.status == "FAILED"
    assert "more than the 3 it planned and was reviewed with" in (applied.cause or "")
    assert pair.entries() == before


def test_a_prefix_named_with_an_applied_plan_is_refused_by_the_state_machine_too(
    deployed: Deployed,
) -> None:
    # The CLI's --prefix with --apply-plan and the request's prefixes with applyPlan go
    # through one check (workflow.prepare.stored_request): the plan whole, or not at all
    run_id = planned_over_the_guard(deployed)
    before = deployed.pair.entries()

    applied = deployed.run({**NO_LIMITS_RAISED, "applyPlan": run_id, "prefixes": ["gone-1"]})

    assert (applied.status, applied.error) == ("FAILED", "InvalidInput")
    assert "an applied plan keeps its own prefixes" in (applied.cause or "")
    assert deployed.pair.entries() == before
