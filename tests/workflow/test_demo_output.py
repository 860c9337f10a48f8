"""`syncpurge demo`'s output off a terminal (issue 30): its report paths are whole on
their lines (rich folded them at 80 columns, mid run id), each names its run by an id in
the one run-id format, and no line is wider than 100 columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncpurge.cli import main
from syncpurge.core.run_ids import RUN_ID

pytestmark = pytest.mark.workflow

REPORT = re.compile(r"s3://demo-reports/\S+/Purge-Reports/task-\d+/(?P<run>[^/\s]+)/$")


def test_the_demos_report_paths_are_whole_and_name_runs_in_the_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--report-dir", str(tmp_path)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    reports = [m for line in lines if (m := REPORT.search(line.strip()))]
    assert len(reports) == 2, "\n".join(lines)
    for found in reports:
        assert RUN_ID.match(found["run"]), found[0]
    assert max(len(line) for line in lines) <= 100
