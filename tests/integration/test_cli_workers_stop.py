"""Ctrl-C and failures while the CLI purges a plan in parts on its workers (issue 29): every
part stops before its next key, accounts for the batches it had sent, and the run's report
says what happened to each entry once; nothing is sent after the stop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from syncpurge.cli import main
from syncpurge.phases import fanout_purge, purge, side_by_side
from syncpurge.phases.report import read_entries_lines
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration

GONE = 1_200


def leftovers(pair: BucketPair) -> None:
    pair.put_live()
    for i in range(GONE):
        pair.put(f"gone/{i:05d}", "x", bucket=pair.target)


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
    monkeypatch.setattr(fanout_purge, "MIN_PART_ENTRIES", 100)  # 1,200 entries: 4 parts
    monkeypatch.setattr(purge, "MAX_KEYS_PER_DELETE", 20)  # of 15 batches each
    real_delete_batch, real_wait = purge.delete_batch, side_by_side.wait
    deleted_once, interrupted = threading.Event(), threading.Event()

    def delete_batch(target: Any, batch: list[Any], settings: Any) -> Any:
        records = real_delete_batch(target, batch, settings)  # S3 deletes the batch
        deleted_once.set()
        return records

    def interrupted_while_waiting(futures: Iterable[Any], **kwargs: Any) -> Any:
        # Ctrl-C lands in the run's thread, which waits on its parts (not the diff's ranges)
        if not purging.is_set():
            return real_wait(futures, **kwargs)
        deleted_once.wait(10)
        if not interrupted.is_set():
            interrupted.set()
            raise KeyboardInterrupt
        return real_wait(futures, **kwargs)

    purging, real_run = threading.Event(), fanout_purge.run_side_by_side

    def purge_side_by_side(*args: Any, **kwargs: Any) -> Any:
        purging.set()
        return real_run(*args, **kwargs)

    monkeypatch.setattr(purge, "delete_batch", delete_batch)
    monkeypatch.setattr(fanout_purge, "run_side_by_side", purge_side_by_side)
    monkeypatch.setattr(side_by_side, "wait", interrupted_while_waiting)

    code = run(pair, tmp_path)

    assert code == 130
    (folder,) = tmp_path.iterdir()
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
    monkeypatch.setattr(fanout_purge, "MIN_PART_ENTRIES", 100)
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
    (folder,) = tmp_path.iterdir()
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
