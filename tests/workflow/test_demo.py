"""`syncpurge demo` end to end: exit code, output, and report files in the §8 layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import main

pytestmark = pytest.mark.workflow


def test_demo_tells_case_2_and_saves_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--report-dir", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0
    assert "planned 3, purged 3" in out
    assert "planned 0, purged 0" in out
    summaries = sorted(tmp_path.glob("datasync-reports/Purge-Reports/task-*/*/summary.json"))
    assert len(summaries) == 2
    first = json.loads(summaries[0].read_text())
    assert first["status"] == "SUCCEEDED"
    assert first["byRule"]["vanished-key"]["purged"] == 2
    assert first["byRule"]["orphan-version"]["purged"] == 1
    entries = [
        json.loads(line)
        for line in (summaries[0].parent / "entries" / "entries-00001.jsonl")
        .read_text()
        .splitlines()
    ]
    assert {(e["key"], e["rule"]) for e in entries} == {
        ("a.txt", "vanished-key"),
        ("c.txt", "orphan-version"),
    }


def test_demo_events_tells_a_version_erased_at_the_source_leaving_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--events", "--report-dir", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0
    assert "Object Deleted (Permanently Deleted)" in out
    assert "purged (orphan-version, proof: md5)" in out
    (summary,) = tmp_path.glob("datasync-reports/Purge-Reports/task-*/events-*/summary.json")
    figures = json.loads(summary.read_text())
    assert figures["events"]["purged"] == 1
    assert figures["byProof"] == {"md5": 1}


def test_demo_erase_erases_two_copies_signs_the_receipt_and_catches_a_restore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--erase", "--report-dir", str(tmp_path)])

    captured = capsys.readouterr()
    assert code == 0
    assert "a permanent delete never reaches a copy" in captured.out
    assert "signature valid: KMS key arn:aws:kms:" in captured.err
    assert "CAME BACK: s3://demo-target/customers/4711/notes.txt" in captured.err
    (receipt,) = tmp_path.glob("erasures/*/receipt.json")
    totals = json.loads(receipt.read_text())["receipt"]["totals"]
    assert (totals["purged"], totals["failed"]) == (11, 0)
    assert (receipt.parent / "receipt.html").exists()
