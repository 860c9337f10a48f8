"""The CLI's --report in the target: the whole report root stays out of every later run's
scope, not only the run's own folder (issue 28 review, R1)."""

from __future__ import annotations

import json

import pytest

from syncpurge.cli import EXIT_OK, main
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def test_a_later_cli_run_never_purges_an_earlier_run_s_report_in_the_target(
    pair: BucketPair, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("live", "x")
    pair.sync()
    report = f"s3://{pair.target}/reports/"
    flags = ("--max-purge-fraction", "1", "--report", report, "--json")
    assert main(reconcile_flags(pair, *flags)) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert f"reports/{first['runId']}/summary.json" in pair.all_keys(pair.target)

    assert main(reconcile_flags(pair, *flags)) == EXIT_OK
    second = json.loads(capsys.readouterr().out)

    # the first run's report must survive the second run
    assert f"reports/{first['runId']}/summary.json" in pair.all_keys(pair.target)
    assert second["totals"]["purged"] == 0
