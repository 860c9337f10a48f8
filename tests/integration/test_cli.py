"""`syncpurge reconcile` end to end on moto: output, report files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_FAILED, EXIT_GUARD, EXIT_INVALID, EXIT_OK, main
from tests.helpers import BucketPair, reconcile_flags, run_folders

pytestmark = pytest.mark.integration


def reconcile_args(pair: BucketPair, report: Path, *extra: str) -> list[str]:
    return reconcile_flags(pair, "--report", str(report), "--allow-unrelated-source", *extra)


def only_run_folder(report: Path) -> Path:
    (folder,) = run_folders(report)
    return folder


def test_json_prints_exactly_the_summary_document(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("gone", "xyz", bucket=pair.target)

    code = main(reconcile_args(pair, tmp_path, "--json", "--max-purge-fraction", "1"))

    out = capsys.readouterr()
    assert code == EXIT_OK
    printed = json.loads(out.out)
    written = json.loads((only_run_folder(tmp_path) / "summary.json").read_text())
    assert printed == written
    assert printed["status"] == "SUCCEEDED"
    assert printed["totals"]["purged"] == 1
    assert printed["totals"]["bytesReclaimed"] == 3
    assert "purged" in out.err  # progress counters went to stderr
    assert pair.all_keys() == set()


def test_human_summary_and_entries_file(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("gone", "x", bucket=pair.target)

    code = main(reconcile_args(pair, tmp_path, "--dry-run", "--max-purge-fraction", "1"))

    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "DRY_RUN" in out
    assert "planned" in out
    lines = (only_run_folder(tmp_path) / "entries" / "entries-00001.jsonl").read_text().splitlines()
    assert [json.loads(line)["outcome"] for line in lines] == ["planned"]
    assert pair.all_keys() == {"gone"}


def test_report_to_s3_uri(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.client.create_bucket(Bucket="reports-bucket")
    pair.put("gone", "x", bucket=pair.target)

    code = main(
        [
            "reconcile",
            "--source-bucket",
            pair.source,
            "--target-bucket",
            pair.target,
            "--report",
            "s3://reports-bucket/runs",
            "--json",
            "--max-purge-fraction",
            "1",
            "--allow-unrelated-source",
        ]
    )

    run_id = json.loads(capsys.readouterr().out)["runId"]
    assert code == EXIT_OK
    keys = {o["Key"] for o in pair.client.list_objects_v2(Bucket="reports-bucket")["Contents"]}
    # The run's report folder under the root; its workspace (its plan) beside the runs'.
    assert {k for k in keys if not k.startswith(("runs/syncpurge-work/", "runs/20"))} == set()
    report = {k.removeprefix(f"runs/{run_id}/") for k in keys if k.startswith(f"runs/{run_id}/")}
    journals = {k for k in report if k.startswith("journal/")}
    assert len(journals) == 1
    assert report - journals == {"started.json", "summary.json", "entries/entries-00001.jsonl"}
    assert f"runs/syncpurge-work/{run_id}/guard.json" in keys
    assert any(k.startswith(f"runs/syncpurge-work/{run_id}/plan/") for k in keys)


def test_guard_tripped_exits_3_and_deletes_nothing(pair: BucketPair, tmp_path: Path) -> None:
    for i in range(3):
        pair.put(f"gone{i}", "x", bucket=pair.target)

    assert main(reconcile_args(pair, tmp_path)) == EXIT_GUARD
    assert len(pair.all_keys()) == 3


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--max-purge-fraction", "1.5"], "--max-purge-fraction"),
        (["--max-purge", "-3"], "--max-purge"),
        (["--rules", "vanished-key,bogus"], "'bogus' is not one of"),
        (["--grace-minutes", "-1"], "--grace-minutes"),
    ],
)
def test_invalid_flags_exit_2_naming_the_flag(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    pair.put("gone", "x", bucket=pair.target)

    code = main(reconcile_args(pair, tmp_path, *flags))

    assert code == EXIT_INVALID
    assert message in capsys.readouterr().err
    assert pair.all_keys() == {"gone"}
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_preflight_refusal_exits_2(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.client.create_bucket(Bucket="unversioned-src")
    pair.put("gone", "x", bucket=pair.target)

    code = main(
        [
            "reconcile",
            "--source-bucket",
            "unversioned-src",
            "--target-bucket",
            pair.target,
            "--report",
            str(tmp_path),
            "--region",
            "us-east-1",
        ]
    )

    assert code == EXIT_INVALID
    assert "versioning Disabled" in capsys.readouterr().err
    assert pair.all_keys() == {"gone"}


def test_failed_entries_exit_1(
    pair: BucketPair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A target without s3:DeleteObjectVersion: every delete comes back AccessDenied
    pair.put("gone", "x", bucket=pair.target)
    from syncpurge.data.s3shapes import DeleteError, DeleteResult
    from syncpurge.data.s3store import S3Store

    def denied(
        self: S3Store, bucket: str, refs: list[tuple[str, str]], **_: object
    ) -> DeleteResult:
        return DeleteResult(
            errors=[DeleteError(k, v, "AccessDenied", "Access Denied") for k, v in refs]
        )

    monkeypatch.setattr(S3Store, "delete_versions", denied)

    code = main(reconcile_args(pair, tmp_path, "--max-purge-fraction", "1"))

    assert code == EXIT_FAILED
    assert "failed" in capsys.readouterr().err


def test_off_a_terminal_progress_is_logged_as_lines_and_nothing_wraps(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("gone", "x", bucket=pair.target)
    deep = tmp_path / ("a-report-folder-with-a-long-name-" * 4)

    code = main(reconcile_args(pair, deep, "--max-purge-fraction", "1"))

    out = capsys.readouterr()
    assert code == EXIT_OK
    progress = out.err.splitlines()
    # one line as each phase ends (and every few seconds in a long one)
    assert [line.split("]")[0] + "]" for line in progress] == [
        "[preflight]",
        "[diff]",
        "[purge]",
    ]
    # the target's own entry, the run's lock version (.syncpurge/cli-run.lock) apart
    assert progress[-1].startswith(
        "[purge] listed source 0, target 1 (+1 outside the scope); planned 1; "
        "purged 1, retained 0, skipped 0, failed 0 ("
    )
    assert str(deep) in out.out  # the report location on one line, unwrapped
