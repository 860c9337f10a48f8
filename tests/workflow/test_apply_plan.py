"""Approve, then purge (issue 9, docs/design.md §5 and §7 applyPlan): a dry run's stored plan,
applied later, purges exactly that plan, each entry re-checked against fresh listings."""

from __future__ import annotations

import json

import pytest

from syncpurge.cli import EXIT_OK, main
from tests.workflow.conftest import REPORTS, Deployed

pytestmark = pytest.mark.workflow

LIMITS = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True, "skipSync": True}


def test_a_dry_runs_plan_applied_later_purges_exactly_it_and_skips_what_went_stale(
    deployed: Deployed,
) -> None:
    # Given three keys only the target holds, and one both hold
    pair = deployed.pair
    pair.put_live()
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


EXCLUDE_LEGAL = [{"FilterType": "SIMPLE_PATTERN", "Value": "/legal/*"}]


def test_an_applied_plan_keeps_to_the_scope_of_the_run_that_applies_it(deployed: Deployed) -> None:
    # Issue 17, defect 2. Given a dry run that planned legal/contract.pdf (erased at the
    # source) and its folder object legal/
    pair = deployed.pair
    pair.put_live()
    pair.put("legal/", b"", bucket=pair.target)
    pair.put("legal/contract.pdf", "signed", bucket=pair.target)
    pair.put("other/gone", "x", bucket=pair.target)
    dry = deployed.run({**LIMITS, "dryRun": True})
    assert dry.status == "SUCCEEDED", dry.cause
    assert (dry.output or {})["summary"]["totals"]["planned"] == 3
    # ... then the task's Excludes gain /legal/*
    deployed.runtime.datasync.tasks[deployed.task_arn]["Excludes"] = EXCLUDE_LEGAL

    applied = deployed.run({**LIMITS, "applyPlan": (dry.output or {})["summary"]["runId"]})

    # Then nothing under legal/ is deleted: the applying run's scope decides, key by key
    assert applied.status == "SUCCEEDED", applied.cause
    summary, lines = deployed.report(applied)
    assert summary["scope"]["excludes"] == ["/legal/*"]
    assert {line["key"] for line in lines if line["outcome"] == "purged"} == {"other/gone"}
    assert {"legal/", "legal/contract.pdf"} <= pair.all_keys()
    stale = {line["key"]: line["reason"] for line in lines if line["outcome"] == "skipped"}
    assert stale == {"legal/": "stale", "legal/contract.pdf": "stale"}


def test_a_plan_line_repeated_counts_once_and_the_current_entry_stays(
    deployed: Deployed,
) -> None:
    # Issue 17, defect 3. Given vanished doc.pdf = [marker M (current), V2, V1] and a dry
    # run's plan whose V2 line an editor replaced by a second copy of V1's
    pair = deployed.pair
    pair.put_live()
    v1 = pair.put("doc.pdf", "1", bucket=pair.target)
    v2 = pair.put("doc.pdf", "2", bucket=pair.target)
    pair.soft_delete("doc.pdf", bucket=pair.target)
    dry = deployed.run({**LIMITS, "dryRun": True})
    assert dry.status == "SUCCEEDED", dry.cause
    s3, run_id, bucket = pair.client, (dry.output or {})["summary"]["runId"], pair.target
    (chunk,) = [k for k in pair.all_keys(REPORTS) if "/plan/" in k and run_id in k]
    lines = s3.get_object(Bucket=REPORTS, Key=chunk)["Body"].read().splitlines()
    by_id = {json.loads(line)["v"]: line for line in lines}
    assert len(lines) == 3  # V2, V1, M (a key's current entry comes last)
    edited = [by_id[v1] if json.loads(line)["v"] == v2 else line for line in lines]
    s3.put_object(Bucket=REPORTS, Key=chunk, Body=b"\n".join(edited))

    applied = deployed.run({**LIMITS, "applyPlan": run_id})

    # Then doc.pdf still reads as deleted (M stays while V2 does), each entry reported once
    assert applied.status == "SUCCEEDED", applied.cause
    _, report_lines = deployed.report(applied)
    by_version = [(line["versionId"], line["outcome"]) for line in report_lines]
    assert len(by_version) == len({v for v, _ in by_version}) == 2
    assert pair.client.list_object_versions(Bucket=bucket, Prefix="doc.pdf")["DeleteMarkers"]
    try:
        pair.client.get_object(Bucket=bucket, Key="doc.pdf")
        visible = True
    except pair.client.exceptions.NoSuchKey:
        visible = False
    assert not visible


def test_reconcile_task_arn_apply_plan_keeps_to_the_task_s_scope_now(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 17, defect 2, on the CLI: the dry run's plan holds legal/, then Excludes change
    pair = deployed.pair
    pair.put_live()
    pair.put("legal/contract.pdf", "signed", bucket=pair.target)
    pair.put("other/gone", "x", bucket=pair.target)
    flags = ["reconcile", "--task-arn", deployed.task_arn, "--region", "us-east-1", "--json"]
    flags += ["--max-purge-fraction", "1", "--allow-unrelated-source"]
    assert main([*flags, "--dry-run"]) == EXIT_OK
    dry = json.loads(capsys.readouterr().out)
    assert dry["totals"]["planned"] == 2
    deployed.runtime.datasync.tasks[deployed.task_arn]["Excludes"] = EXCLUDE_LEGAL

    code = main([*flags, "--apply-plan", dry["runId"]])

    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert summary["scope"]["excludes"] == ["/legal/*"]
    assert (summary["totals"]["purged"], summary["totals"]["skipped"]) == (1, 1)
    assert "legal/contract.pdf" in pair.all_keys()
    assert "other/gone" not in pair.all_keys()
