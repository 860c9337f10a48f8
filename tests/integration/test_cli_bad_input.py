"""Issue 8 defect 9: the CLI on odd input — a clean message naming the flag, exit 2,
nothing deleted; Ctrl-C stops cleanly with the partial report and journal, exit 130."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from syncpurge import cli
from syncpurge.cli import EXIT_INVALID, main
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def base(pair: BucketPair, report: Path) -> list[str]:
    return reconcile_flags(pair, "--report", str(report), "--max-purge-fraction", "1")


def replace(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    if flag in out:
        out[out.index(flag) + 1] = value
    else:
        out += [flag, value]
    return out


@pytest.mark.parametrize(
    "case",
    [
        ("--source-bucket", "Bad_Bucket[/:]", "--source-bucket"),
        ("--target-bucket", "x", "--target-bucket"),
        ("--endpoint-url", "not a url", "--endpoint-url"),
        ("--endpoint-url", "ftp://host", "--endpoint-url"),
        ("--region", "us east 1", "--region"),
        ("--grace-minutes", "10000000000", "--grace-minutes"),
        ("--max-purge-fraction", "0", "--max-purge-fraction"),
        ("--prefix", "a|b/", "--prefix"),
        ("--prefix", "/logs/", "--prefix"),
        ("--prefix", "", "--prefix"),
        ("--report", "s3://syncpurge-src/reports", "--report"),
        ("--rules", "vanished-key,nope", "--rules"),
    ],
)
def test_odd_input_is_refused_naming_the_flag_and_nothing_is_deleted(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, ...]
) -> None:
    flag, value, named = case
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)
    pair.put("gone", "x", bucket=pair.target)
    before = (pair.entries(pair.source), pair.entries(pair.target))

    code = main(replace(base(pair, tmp_path / "r"), flag, value))

    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert named in err
    assert "Traceback" not in err
    assert (pair.entries(pair.source), pair.entries(pair.target)) == before


def test_ctrl_c_stops_cleanly_with_the_partial_report_and_journal(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)
    for i in range(1200):
        pair.put(f"gone/{i:05d}", "x", bucket=pair.target)
    seen: list[Any] = []

    def interrupt_after_the_first_batch(self: Any, record: Any) -> None:
        seen.append(record)
        if len(seen) == 1000:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli.RichProgress, "outcome", interrupt_after_the_first_batch)

    code = main(base(pair, tmp_path))

    assert code == 130
    (run,) = tmp_path.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "FAILED"
    assert "interrupted" in summary["error"]
    assert summary["totals"]["purged"] >= 999
    assert (run / "journal" / "batch-00001.jsonl").exists()
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_two_runs_on_one_target_never_run_at_once(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    # Defect 8(d): two CLI runs at once each reported every entry purged.
    pair.put("live", "x")
    pair.put("live", "x", bucket=pair.target)
    pair.put("gone", "x", bucket=pair.target)
    if where == "s3":
        pair.client.create_bucket(Bucket="run-reports")
        report = "s3://run-reports/runs/"
        pair.client.put_object(
            Bucket="run-reports", Key=f"runs/syncpurge-{pair.target}.lock", Body=b"{}"
        )
    else:
        report = str(tmp_path / "runs")
        (tmp_path / "runs").mkdir()
        (tmp_path / "runs" / f"syncpurge-{pair.target}.lock").write_text("{}")
    args = replace(base(pair, tmp_path), "--report", report)

    held = main(args)
    assert held == EXIT_INVALID
    assert "--break-lock" in capsys.readouterr().err
    assert "gone" in pair.all_keys(pair.target)

    assert main([*args, "--break-lock"]) == 0
    assert "gone" not in pair.all_keys(pair.target)
    assert main(args) == 0  # the lock was released at the end of the run
