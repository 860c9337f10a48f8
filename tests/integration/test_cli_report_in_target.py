"""The CLI's --report in the target: the whole report root stays out of every later run's
scope, not only the run's own folder (issue 28 review, R1)."""

from __future__ import annotations

import json

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def report_in_the_target(pair: BucketPair) -> tuple[str, ...]:
    """A synced pair, and the flags of runs that report into the target's reports/."""
    pair.put("live", "x")
    pair.sync()
    return ("--max-purge-fraction", "1", "--report", f"s3://{pair.target}/reports/")


def test_a_later_cli_run_never_purges_an_earlier_run_s_report_in_the_target(
    pair: BucketPair, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = (*report_in_the_target(pair), "--json")
    assert main(reconcile_flags(pair, *flags)) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert f"reports/{first['runId']}/summary.json" in pair.all_keys(pair.target)

    assert main(reconcile_flags(pair, *flags)) == EXIT_OK
    second = json.loads(capsys.readouterr().out)

    # the first run's report must survive the second run
    assert f"reports/{first['runId']}/summary.json" in pair.all_keys(pair.target)
    assert second["totals"]["purged"] == 0


def test_a_stored_plan_whose_prefixes_name_the_report_is_refused_by_the_policy(
    pair: BucketPair, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dry run's plan, its report (and workspace) in the target, whose stored run
    # was edited to name the report folder as the plan's prefix
    flags = report_in_the_target(pair)
    assert main(reconcile_flags(pair, *flags, "--dry-run", "--json")) == EXIT_OK
    run_id = json.loads(capsys.readouterr().out)["runId"]
    key = f"reports/syncpurge-work/{run_id}/run.json"
    plan = json.loads(pair.client.get_object(Bucket=pair.target, Key=key)["Body"].read())
    plan["request"]["prefixes"] = ["reports/"]
    pair.client.put_object(Bucket=pair.target, Key=key, Body=json.dumps(plan).encode())
    before = pair.entries(pair.target)

    # When it is applied
    code = main(reconcile_flags(pair, *flags, "--apply-plan", run_id))

    # Then the policy refuses the plan's prefix as it refuses a request's, before anything
    # is listed or deleted
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert "'reports/' lies in the report destination" in err
    assert pair.entries(pair.target) == before
