"""`reconcile --workers N` (issue 29): the scope is cut into key ranges and diffed on N
threads, and the run plans and purges exactly what one listing does, in the same order."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from syncpurge.phases import cutting
from syncpurge.phases.report import read_entries_lines
from tests.helpers import BucketPair, exit_code, reconcile_flags, run_folders

pytestmark = pytest.mark.integration

# the module (the package names its step function `guard` too)
workflow_guard = importlib.import_module("syncpurge.workflow.guard")

FIELDS = ("key", "versionId", "isDeleteMarker", "rule", "proof", "outcome", "reason")


def world(pair: BucketPair) -> None:
    """40 keys in two folders, synced; every fifth erased at the source; strays on the target."""
    for n in range(40):
        pair.put(f"{'ab'[n % 2]}/{n:03d}", f"body-{n}")
    pair.sync()
    for n in range(0, 40, 5):
        key = f"{'ab'[n % 2]}/{n:03d}"
        for _, version_id, _ in [e for e in pair.entries(pair.source) if e[0] == key]:
            pair.delete_version(key, version_id)
    pair.sync()  # the task's REMOVE leaves a delete marker over each erased key's version
    pair.put("a/stray", "s", bucket=pair.target)


def run(pair: BucketPair, report: Path, *extra: str) -> tuple[list[tuple[Any, ...]], Any]:
    flags = reconcile_flags(
        pair, "--report", str(report), "--allow-unrelated-source", "--json", *extra
    )
    assert main(flags) == EXIT_OK
    (folder,) = run_folders(report)
    lines = [tuple(line[f] for f in FIELDS) for line in read_entries_lines(folder)]
    return lines, json.loads((folder / "summary.json").read_text())


def test_many_workers_plan_what_one_listing_plans_in_the_same_order(
    pair: BucketPair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world(pair)
    # ranges of a few entries, so that 40 keys are cut into many
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 6)

    one, one_summary = run(pair, tmp_path / "one", "--dry-run", "--workers", "1")
    capsys.readouterr()
    many, many_summary = run(pair, tmp_path / "many", "--dry-run", "--workers", "4")

    progress = capsys.readouterr().err
    assert "key ranges" in progress  # the diff was cut: "key ranges N of N done"
    assert many == one
    assert len(one) == 8 * 2 + 1  # each erased key's version and marker, and the stray
    for figure in ("sourceEntries", "targetEntries", "planned"):
        assert many_summary["totals"][figure] == one_summary["totals"][figure]


def test_many_workers_purge_exactly_the_plan_in_parts_each_journaled_apart(
    pair: BucketPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world(pair)
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 6)
    monkeypatch.setattr(workflow_guard, "MIN_ITEM_LINES", 2)  # 17 entries: several parts
    source_before, target_before = pair.entries(pair.source), pair.entries(pair.target)

    lines, summary = run(pair, tmp_path, "--force", "--workers", "8")

    purged = {(key, version_id, marker) for key, version_id, marker, *_ in lines}
    assert summary["status"] == "SUCCEEDED"
    assert summary["totals"]["purged"] == len(purged) == len(lines) == 17
    assert pair.entries(pair.target) == target_before - purged
    assert pair.entries(pair.source) == source_before
    (folder,) = run_folders(tmp_path)
    journals = sorted(path.name for path in (folder / "journal").iterdir())
    assert len(journals) > 1  # each purge item journals under names of its own
    journaled = [
        json.loads(line)["versionId"]
        for name in journals
        for line in (folder / "journal" / name).read_text().splitlines()
    ]
    assert sorted(journaled) == sorted(version_id for _, version_id, _ in purged)


@pytest.mark.parametrize("value", ["0", "33", "many", "-1"])
def test_a_worker_count_out_of_range_is_refused_in_one_line(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    pair.put("gone", "x", bucket=pair.target)
    before = pair.entries(pair.target)

    code = exit_code(
        reconcile_flags(pair, "--report", str(tmp_path), "--force", f"--workers={value}")
    )

    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert f"argument --workers: '{value}' is not a whole number from 1 to 32" in err
    assert "Traceback" not in err
    assert pair.entries(pair.target) == before


def test_the_run_lock_beside_the_data_does_not_fool_the_cut(
    pair: BucketPair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The CLI's lock (.syncpurge/) sorts before data/: counted as a folder, the first probe
    read the space between them as nearly empty and the whole bucket was one range."""
    for n in range(3_000):  # 20 folders of 150 keys
        key = f"data/{n // 150:05d}/{n:09d}.bin"
        pair.client.put_object(Bucket=pair.target, Key=key, Body=b"")
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 300)

    run(pair, tmp_path, "--dry-run", "--workers", "16")

    # 3,000 entries in items of about 300 (it was one item, the lock apart)
    ranges = re.search(r"key ranges (\d+) of (\d+) done", capsys.readouterr().err)
    assert ranges is not None
    assert int(ranges[2]) >= 8


def test_applying_a_plan_on_many_workers_re_checks_it_in_parts_and_keeps_its_order(
    pair: BucketPair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    world(pair)
    monkeypatch.setattr(workflow_guard, "MIN_ITEM_LINES", 2)  # 17 entries: parts of a key
    _, dry = run(pair, tmp_path, "--dry-run", "--workers", "1")
    capsys.readouterr()

    flags = reconcile_flags(pair, "--report", str(tmp_path), "--allow-unrelated-source")
    assert main([*flags, "--apply-plan", dry["runId"], "--workers", "4"]) == EXIT_OK

    err = capsys.readouterr().err
    assert "re-checked 17 of 17" in err
    folders = {folder.name: folder for folder in run_folders(tmp_path)}
    applied = folders[max(name for name in folders if name != dry["runId"])]
    summary = json.loads((applied / "summary.json").read_text())
    assert summary["totals"]["purged"] == 17

    def plan_lines(folder: Path) -> list[tuple[str, str]]:
        return [
            (line["k"], line["v"])  # the plan codec's short names
            for path in sorted((tmp_path / "syncpurge-work" / folder.name / "plan").iterdir())
            for line in map(json.loads, path.read_text().splitlines())
        ]

    # the re-checked plan, joined from its parts, in the stored plan's order
    assert plan_lines(applied) == plan_lines(folders[dry["runId"]])
