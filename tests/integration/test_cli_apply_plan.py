"""`syncpurge reconcile --apply-plan` (issue 9, docs/design.md §5): approve a dry run's plan, then
purge exactly it, each entry re-checked against fresh listings of its key."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from syncpurge.phases import cutting
from syncpurge.phases.report import read_entries_lines
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration

# the module (the package names its step function `guard` too)
workflow_guard = importlib.import_module("syncpurge.workflow.guard")


def run(pair: BucketPair, report: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    flags = ["--report", report, "--max-purge-fraction", "1", "--json", *extra]
    code = main(reconcile_flags(pair, *flags))
    assert code == EXIT_OK, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_a_stored_plan_applied_purges_exactly_it_and_skips_what_went_stale(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    report = str(tmp_path)
    if where == "s3":
        pair.client.create_bucket(Bucket="run-reports")
        report = "s3://run-reports/runs/"
    # Given a dry run's plan of three vanished keys
    pair.put_live()
    for key in ("gone-1", "gone-2", "gone-3"):
        pair.put(key, "x", bucket=pair.target)
    dry = run(pair, report, capsys, "--dry-run")
    assert dry["totals"]["planned"] == 3
    # When gone-2 comes back to the source and gone-4 appears before the plan is applied
    pair.put("gone-2", "back")
    pair.put("gone-4", "x", bucket=pair.target)

    applied = run(pair, report, capsys, "--apply-plan", dry["runId"])

    # Then the plan's entries that still qualify go, the stale one stays, gone-4 untouched
    assert applied["appliedPlan"] == dry["runId"]
    assert applied["totals"]["planned"] == 3  # the plan as stored
    assert (applied["totals"]["purged"], applied["totals"]["skipped"]) == (2, 1)
    assert pair.all_keys() == {"live", "gone-2", "gone-4"}
    if where == "folder":
        lines = list(read_entries_lines(tmp_path / applied["runId"]))
        assert {
            (line["key"], line["reason"]) for line in lines if line["outcome"] == "skipped"
        } == {("gone-2", "stale")}


def test_an_unknown_plan_is_refused_naming_the_flag(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("gone", "x", bucket=pair.target)
    before = pair.entries()

    code = main(reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", "nope"))

    assert code == EXIT_INVALID
    assert "--apply-plan" in capsys.readouterr().err
    assert pair.entries() == before


def dry_run_then_edit(
    pair: BucketPair, report: Path, capsys: pytest.CaptureFixture[str], edit: Any
) -> str:
    """A dry run's plan, its plan chunks rewritten by `edit(lines) -> lines`; its run id."""
    dry = run(pair, str(report), capsys, "--dry-run")
    chunks = sorted((report / "syncpurge-work" / dry["runId"] / "plan").glob("*.jsonl"))
    assert chunks
    for path in chunks:
        path.write_bytes(b"\n".join(edit(path.read_bytes().splitlines())) + b"\n")
    return str(dry["runId"])


def test_a_plan_line_repeated_across_batches_never_makes_a_deleted_object_visible(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 17, defect 3. Given 999 vanished keys before doc.pdf = [marker M, V2, V1], so
    # V1's two copies fall in different DeleteObjects batches once V2's line is replaced
    pair.put_live()
    for i in range(999):
        pair.put(f"a/{i:04d}", "x", bucket=pair.target)
    v1 = pair.put("doc.pdf", "1", bucket=pair.target)
    v2 = pair.put("doc.pdf", "2", bucket=pair.target)
    pair.soft_delete("doc.pdf", bucket=pair.target)

    def replace_v2_by_v1(lines: list[bytes]) -> list[bytes]:
        line_of = {json.loads(line)["v"]: line for line in lines}
        return [line_of[v1] if json.loads(line)["v"] == v2 else line for line in lines]

    run_id = dry_run_then_edit(pair, tmp_path, capsys, replace_v2_by_v1)

    applied = run(pair, str(tmp_path), capsys, "--apply-plan", run_id)

    # Then doc.pdf is not readable again, and every entry is reported exactly once
    with pytest.raises(pair.client.exceptions.NoSuchKey):
        pair.client.get_object(Bucket=pair.target, Key="doc.pdf")
    lines = list(read_entries_lines(tmp_path / applied["runId"]))
    ids = [(line["key"], line["versionId"]) for line in lines]
    assert len(ids) == len(set(ids)) == 1001
    outcome = {
        line["versionId"]: (line["outcome"], line["reason"])
        for line in lines
        if line["key"] == "doc.pdf"
    }
    assert outcome[v1][0] == "purged"
    assert ("skipped", "protects-current") in outcome.values()


@pytest.mark.parametrize("workers", ["1", "4"])
def test_a_plan_out_of_key_order_is_refused_before_anything_is_deleted(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    workers: str,
) -> None:
    pair.put_live()
    for key in ("gone-1", "gone-2"):
        pair.put(key, "x", bucket=pair.target)
    run_id = dry_run_then_edit(pair, tmp_path, capsys, lambda lines: [*lines, lines[0]])
    before = pair.entries()

    flags = reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", run_id)
    code = main([*flags, "--workers", workers])

    assert code == EXIT_INVALID
    assert "not in key order" in capsys.readouterr().err
    assert pair.entries() == before


def test_an_applied_plan_verifies_by_range_as_cheaply_as_a_normal_run(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 17, defect 4. Given 3,000 source keys before 10 vanished keys that share no
    # prefix (so only where the diff saw them tells a listing where to start)
    for i in range(3000):
        key = f"a/{i:05d}"
        pair.put(key, "x")
        pair.put(key, "x", bucket=pair.target)
    for name in "bcdefghijk":
        pair.put(name, "x", bucket=pair.target)
    run_id = dry_run_then_edit(pair, tmp_path, capsys, lambda lines: lines)

    applied = run(pair, str(tmp_path), capsys, "--apply-plan", run_id)

    # Then one verify LIST answers for all ten, as in a run that diffs
    assert applied["totals"]["purged"] == 10
    assert applied["requests"]["verify"] == 1


def test_applying_a_plan_shows_how_much_is_re_checked_and_what_the_ranges_listed(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dry run's plan of three vanished keys among live ones
    pair.put_live()
    for key in ("gone-1", "gone-2", "gone-3"):
        pair.put(key, "x", bucket=pair.target)
    dry = run(pair, str(tmp_path), capsys, "--dry-run")

    # When it is applied
    flags = ["--report", str(tmp_path), "--max-purge-fraction", "1", "--apply-plan", dry["runId"]]
    assert main(reconcile_flags(pair, *flags)) == EXIT_OK

    # Then progress counts the re-check against the plan, and the listings it read
    diff = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("[diff]"))
    assert "re-checked 3 of 3" in diff
    assert "listed source 0, target 0" not in diff


def test_a_plan_of_another_mode_than_the_run_s_is_refused(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a datasync-mode dry run's plan
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    dry = run(pair, str(tmp_path), capsys, "--dry-run")
    before = pair.entries()

    # When it is applied by a run that says it is in replication mode
    flags = ["--report", str(tmp_path), "--apply-plan", dry["runId"], "--mode", "replication"]
    code = main(reconcile_flags(pair, *flags))

    # Then it is refused, as a deployment of the other mode refuses it; nothing is deleted
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert "was made in datasync mode" in err
    assert pair.entries() == before

    # And without --mode the plan is applied in its own mode
    applied = run(pair, str(tmp_path), capsys, "--apply-plan", dry["runId"])
    assert applied["mode"] == "datasync"
    assert applied["totals"]["purged"] == 1


@pytest.mark.parametrize("apart", [True, False], ids=["items-apart", "one-item"])
def test_a_plan_line_copied_into_another_chunk_is_refused_before_anything_is_deleted(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    apart: bool,
) -> None:
    # Found by review: a line of one stored chunk copied over the first line of the next
    # (the planned count unchanged) was re-checked by two items and reported twice
    pair.put_live()
    for i in range(30):
        pair.put(f"gone/{i:05d}", "x", bucket=pair.target)
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 15)  # a plan of several chunks
    dry = run(pair, str(tmp_path), capsys, "--dry-run", "--workers", "2")
    workspace = tmp_path / "syncpurge-work" / dry["runId"]
    chunks = sorted((workspace / "plan").glob("*.jsonl"))
    assert len(chunks) >= 2
    first, second = (chunk.read_bytes().splitlines() for chunk in chunks[:2])
    chunks[1].write_bytes(b"\n".join([first[0], *second[1:]]) + b"\n")
    if apart:  # each chunk its own item, as in a plan of over 50,000 lines
        monkeypatch.setattr(workflow_guard, "MIN_ITEM_LINES", 1)
    before = pair.entries()

    flags = reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", dry["runId"])
    code = main([*flags, "--workers", "2"])

    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert f"{chunks[1]} line 1: its key lies outside the keys its run recorded" in err
    assert pair.entries() == before


@pytest.mark.parametrize("how", ["a-link-out", "not-json-stats"])
def test_a_stored_workspace_that_cant_be_read_is_refused_naming_its_file(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    # Found by review: each ended in a traceback (or a FAILED run that named no file)
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    report = tmp_path / "reports"
    dry = run(pair, str(report), capsys, "--dry-run")
    workspace = report / "syncpurge-work" / dry["runId"]
    if how == "a-link-out":
        outside = tmp_path / "elsewhere.json"
        outside.write_bytes((workspace / "run.json").read_bytes())
        (workspace / "run.json").unlink()
        (workspace / "run.json").symlink_to(outside)
        named = f"{workspace / 'run.json'} can't be read"
    else:
        (stats,) = (workspace / "diff-stats").iterdir()
        stats.write_text("{,")
        named = f"{workspace}/diff-stats/ can't be read"
    before = pair.entries()

    code = main(reconcile_flags(pair, "--report", str(report), "--apply-plan", dry["runId"]))

    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert named in err
    assert "Traceback" not in err
    assert pair.entries() == before


def test_a_prefix_named_with_an_applied_plan_is_refused_not_ignored(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by review: --prefix a/ with --apply-plan applied the whole plan, b/1 too
    pair.put_live()
    for key in ("a/1", "b/1"):
        pair.put(key, "x", bucket=pair.target)
    dry = run(pair, str(tmp_path), capsys, "--dry-run")
    before = pair.entries()

    flags = reconcile_flags(pair, "--report", str(tmp_path), "--max-purge-fraction", "1")
    code = main([*flags, "--prefix", "a/", "--apply-plan", dry["runId"]])

    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert "plan covers the whole scope, and an applied plan keeps its own prefixes" in err
    assert pair.entries() == before
