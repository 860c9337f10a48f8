"""Ctrl-C at the worst moments of a purge in parts (found by review, issue 29): once it
comes, no part sends another DeleteObjects nor releases a held current entry, whether the
part was past its last key, the parts were still being started, or the operator pressed
Ctrl-C again while the parts drained; and every entry deleted is in the report."""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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


def run(pair: BucketPair, report: Path, workers: int) -> int:
    flags = reconcile_flags(pair, "--report", str(report), "--max-purge-fraction", "1")
    return main([*flags, "--workers", str(workers)])


class SlowDeletes:
    """DeleteObjects that wait on the wire until Ctrl-C has come; notes what is sent after."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.interrupted = threading.Event()
        self.started = threading.Semaphore(0)
        self.after: list[Any] = []
        self.real = purge.delete_batch
        monkeypatch.setattr(purge, "delete_batch", self)
        # the diff's items run side by side too: Ctrl-C is for the purge's items
        self.purging = threading.Event()
        real_purge = engine.Pipeline.purge

        def purging(pipeline: Any) -> None:
            self.purging.set()
            real_purge(pipeline)

        monkeypatch.setattr(engine.Pipeline, "purge", purging)

    def __call__(self, target: Any, batch: list[Any], settings: Any) -> Any:
        if self.interrupted.is_set():
            self.after.extend(batch)
        self.started.release()
        self.interrupted.wait(10)
        return self.real(target, batch, settings)

    def ctrl_c_once_both_parts_sent(self, times: int = 1) -> Any:
        real_wait, count = side_by_side.wait, [0]

        def waiting(futures: Iterable[Any], **kwargs: Any) -> Any:
            if self.purging.is_set() and count[0] < times:
                if count[0] == 0:
                    self.started.acquire(timeout=10)
                    self.started.acquire(timeout=10)
                    time.sleep(0.3)  # both parts are through their keys, on batch 1
                    self.interrupted.set()
                count[0] += 1
                raise KeyboardInterrupt
            return real_wait(futures, **kwargs)

        return waiting


def leftovers(
    pair: BucketPair, monkeypatch: pytest.MonkeyPatch, count: int, batch: int
) -> set[str]:
    """`count` leftovers on the target, purged in items of about 30 entries, batches of `batch`."""
    pair.put_live()
    keys = {f"gone/{i:05d}" for i in range(count)}
    for key in keys:
        pair.put(key, "x", bucket=pair.target)
    parts_of(monkeypatch, 30)
    monkeypatch.setattr(purge, "MAX_KEYS_PER_DELETE", batch)
    return keys


def parts_of(monkeypatch: pytest.MonkeyPatch, entries: int) -> None:
    """Purge items of about `entries` plan lines: Diff items (whose plan chunks they
    gather) of about that many target entries, gathered up to that many lines."""
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", entries)
    monkeypatch.setattr(workflow_guard, "MIN_ITEM_LINES", entries)


def reported_every_deletion(pair: BucketPair, report: Path, keys: set[str]) -> None:
    (folder,) = run_folders(report)
    reported = {line["key"] for line in read_entries_lines(folder)}
    assert keys - pair.all_keys(pair.target) <= reported


def test_a_part_past_its_last_key_sends_no_batch_after_ctrl_c(
    pair: BucketPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = leftovers(pair, monkeypatch, 60, batch=20)  # 2 parts
    deletes = SlowDeletes(monkeypatch)
    monkeypatch.setattr(side_by_side, "wait", deletes.ctrl_c_once_both_parts_sent())

    code = run(pair, tmp_path, 2)

    assert code == 130
    assert deletes.after == []
    reported_every_deletion(pair, tmp_path, keys)


def test_no_held_current_entry_is_released_after_ctrl_c(
    pair: BucketPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair.put_live()
    keys = {f"gone/{i:05d}" for i in range(30)}
    for key in sorted(keys):  # two versions each: the current one waits for the other
        pair.put(key, "old", bucket=pair.target)
        pair.put(key, "new", bucket=pair.target)
    parts_of(monkeypatch, 30)
    monkeypatch.setattr(purge, "MAX_KEYS_PER_DELETE", 10)
    deletes = SlowDeletes(monkeypatch)
    monkeypatch.setattr(side_by_side, "wait", deletes.ctrl_c_once_both_parts_sent())

    code = run(pair, tmp_path, 2)

    assert code == 130
    assert [item.entry.key for item in deletes.after if item.entry.is_latest] == []
    assert all(pair.entries(prefix=key) for key in keys)  # every key keeps its live version
    reported_every_deletion(pair, tmp_path, keys)


def test_ctrl_c_while_the_parts_are_being_started_stops_those_already_started(
    pair: BucketPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = leftovers(pair, monkeypatch, 90, batch=5)  # 3 parts of 30

    class Pool(ThreadPoolExecutor):
        submitted = 0

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            if self._thread_name_prefix.startswith("syncpurge-purge"):
                Pool.submitted += 1
                if Pool.submitted == 2:
                    raise KeyboardInterrupt  # Ctrl-C between two parts
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(side_by_side, "ThreadPoolExecutor", Pool)

    code = run(pair, tmp_path, 3)

    deleted = keys - pair.all_keys(pair.target)
    assert code == 130
    assert len(deleted) < 30  # the part already started stopped before its end
    reported_every_deletion(pair, tmp_path, keys)


def test_a_second_ctrl_c_while_parts_drain_still_waits_for_them_and_reports_all(
    pair: BucketPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = leftovers(pair, monkeypatch, 60, batch=20)
    deletes = SlowDeletes(monkeypatch)
    monkeypatch.setattr(side_by_side, "wait", deletes.ctrl_c_once_both_parts_sent(times=2))

    code = run(pair, tmp_path, 2)

    assert code == 130
    assert deletes.after == []
    reported_every_deletion(pair, tmp_path, keys)
