"""Ctrl-C and failures while the CLI purges a plan's items side by side (issue 29): every
item stops before its next key, accounts for the batches it had sent, and the run's report
says what happened to each entry once; nothing is sent after the stop."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from syncpurge import engine
from syncpurge.cli import main
from syncpurge.phases import cutting, purge, side_by_side
from syncpurge.phases.report import read_entries_lines
from tests.helpers import BucketPair, reconcile_flags, run_folders

pytestmark = pytest.mark.integration

# the module (the package names its step function `guard` too)
workflow_guard = importlib.import_module("syncpurge.workflow.guard")

GONE = 1_200


def leftovers(pair: BucketPair) -> None:
    pair.put_live()
    for i in range(GONE):
        pair.put(f"gone/{i:05d}", "x", bucket=pair.target)


def items_of(monkeypatch: pytest.MonkeyPatch, entries: int) -> None:
    """Purge items of about `entries` plan lines: Diff items (whose plan chunks they
    gather) of about that many target entries, gathered up to that many lines."""
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", entries)
    monkeypatch.setattr(workflow_guard, "MIN_ITEM_LINES", entries)


def run(pair: BucketPair, report: Path) -> int:
    flags = reconcile_flags(pair, "--report", str(report), "--max-purge-fraction", "1")
    return main([*flags, "--workers", "4"])


def test_ctrl_c_while_parts_are_on_the_wire_stops_them_and_reports_every_deleted_entry(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leftovers(pair)
    items_of(monkeypatch, 300)  # 1,200 entries: 4 purge items
    monkeypatch.setattr(purge, "MAX_KEYS_PER_DELETE", 20)  # of 15 batches each
    real_delete_batch, real_wait = purge.delete_batch, side_by_side.wait
    deleted_once, interrupted = threading.Event(), threading.Event()

    def delete_batch(target: Any, batch: list[Any], settings: Any) -> Any:
        records = real_delete_batch(target, batch, settings)  # S3 deletes the batch
        deleted_once.set()
        return records

    def interrupted_while_waiting(futures: Iterable[Any], **kwargs: Any) -> Any:
        # Ctrl-C lands in the run's thread, which waits on its purge items (not the diff's)
        if not purging.is_set():
            return real_wait(futures, **kwargs)
        deleted_once.wait(10)
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt
        return real_wait(futures, **kwargs)

    purging, real_purge = threading.Event(), engine.Pipeline.purge

    def purge_side_by_side(pipeline: Any) -> None:
        purging.set()
        real_purge(pipeline)

    monkeypatch.setattr(purge, "delete_batch", delete_batch)
    monkeypatch.setattr(engine.Pipeline, "purge", purge_side_by_side)
    monkeypatch.setattr(side_by_side, "wait", interrupted_while_waiting)

    code = run(pair, tmp_path)

    assert code == 130
    (folder,) = run_folders(tmp_path)
    lines = list(read_entries_lines(folder))
    reported = {line["key"]: line["outcome"] for line in lines}
    deleted = {f"gone/{i:05d}" for i in range(GONE)} - pair.all_keys(pair.target)
    assert deleted  # the first batches went
    assert len(deleted) < GONE  # and the stop kept the rest
    assert all(reported.get(key) == "purged" for key in deleted)
    assert len(lines) == len({line["key"] for line in lines})  # each once
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "FAILED"
    assert "interrupted" in summary["error"]
    journaled = {
        json.loads(line)["key"]
        for path in (folder / "journal").iterdir()
        for line in path.read_text().splitlines()
    }
    assert deleted <= journaled  # every delete was journaled before it was sent
    assert "Traceback" not in capsys.readouterr().err


def test_a_part_whose_delete_request_raises_reports_its_batch_and_the_run_fails(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leftovers(pair)
    items_of(monkeypatch, 300)
    real_delete_batch = purge.delete_batch
    calls: list[int] = []
    lock = threading.Lock()

    def delete_batch(target: Any, batch: list[Any], settings: Any) -> Any:
        with lock:
            calls.append(len(batch))
            if len(calls) == 2:
                raise OSError("the network went away")
        return real_delete_batch(target, batch, settings)

    monkeypatch.setattr(purge, "delete_batch", delete_batch)

    code = run(pair, tmp_path)

    assert code == 1
    (folder,) = run_folders(tmp_path)
    lines = list(read_entries_lines(folder))
    reported = {line["key"]: line["outcome"] for line in lines}
    deleted = {f"gone/{i:05d}" for i in range(GONE)} - pair.all_keys(pair.target)
    assert all(reported.get(key) == "purged" for key in deleted)
    assert len(lines) == len({line["key"] for line in lines})
    failed = [line for line in lines if line["outcome"] == "failed"]
    assert len(failed) == calls[1]  # the batch whose request raised: reported, not lost
    assert all("OSError: the network went away" in line["error"] for line in failed)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "FAILED"
    assert "Traceback" not in capsys.readouterr().err
