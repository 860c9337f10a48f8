"""What the CLI prints off a terminal (issue 30): lines of at most 100 columns, and paths,
ARNs and run ids never split across lines: `reports list`'s runs, and the command `events
status` gives to turn a source's EventBridge notifications on (for any bucket name)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_OK, main
from syncpurge.cli.events import turn_on_lines
from syncpurge.cli.reports import run_rows
from syncpurge.core.run_ids import new_run_id
from syncpurge.summary import Summary
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration

WIDTH = 100
LONGEST_BUCKET = "b" * 30 + "-" + "c" * 32  # 63 characters, S3's most


def test_the_turn_on_command_fits_100_columns_and_is_one_shell_command() -> None:
    lines = turn_on_lines(LONGEST_BUCKET)

    assert max(len(line) for line in lines) <= WIDTH
    assert sum(LONGEST_BUCKET in line for line in lines) == 2  # whole, both times
    assert all(line.endswith(" \\") for line in lines[:-1])
    bash = shutil.which("bash")
    if bash:
        checked = subprocess.run(
            [bash, "-n"], input="\n".join(lines) + "\n", text=True, capture_output=True, check=False
        )
        assert checked.returncode == 0, checked.stderr


def summary(run_id: str, applied: str | None = None) -> Summary:
    return Summary.model_validate(
        {
            "runId": run_id,
            "status": "GUARD_TRIPPED",
            "mode": "datasync",
            "dryRun": False,
            "sourceBucket": "s",
            "targetBucket": "t",
            "prefixes": [],
            "startedAt": datetime(2026, 12, 7, 10, 59, 39, tzinfo=UTC).isoformat(),
            "appliedPlan": applied,
        }
    )


def test_reports_list_rows_fit_100_columns_and_keep_run_ids_whole() -> None:
    planned = new_run_id(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    applying = new_run_id(datetime(2026, 12, 7, 11, 0, tzinfo=UTC))
    runs = [summary(applying, applied=planned), summary(planned)]
    runs[0].totals.planned = runs[0].totals.purged = 1_234_567

    lines = run_rows(runs)

    assert max(len(line) for line in lines) <= WIDTH, "\n".join(lines)
    assert lines[0].split() == [
        "RUN",
        "STATUS",
        "STARTED",
        "PLANNED",
        "PURGED",
        "SKIPPED",
        "FAILED",
    ]
    assert lines[1].split()[:3] == [applying, "GUARD_TRIPPED", "2026-12-07T10:59Z"]
    assert lines[1].split()[3:5] == ["1,234,567", "1,234,567"]
    assert lines[2].split() == ["(applied", f"{planned}'s", "plan)"]
    assert lines[3].split()[0] == planned


def test_reports_list_off_a_terminal(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)
    assert main(reconcile_flags(pair, "--report", str(tmp_path), "--dry-run", "--json")) == 0
    run_id = json.loads(capsys.readouterr().out)["runId"]

    code = main(["reports", "list", "--from", str(tmp_path)])

    out = capsys.readouterr().out.splitlines()
    assert code == EXIT_OK
    assert max(len(line) for line in out) <= WIDTH
    assert out[2].split()[:2] == [run_id, "DRY_RUN"]
