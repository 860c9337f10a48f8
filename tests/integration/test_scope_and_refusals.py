"""Issue 7 defects 4, 5 and 7 on moto: folder objects, unrelated sources, report places."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from tests.engine_runs import run_engine
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def cli(pair: BucketPair, *flags: str) -> list[str]:
    return reconcile_flags(pair, "--max-purge-fraction", "1", *flags)


@pytest.mark.parametrize("flag", [{"force": True}, {}])
def test_an_empty_source_never_empties_the_target_whatever_force_says(
    pair: BucketPair, tmp_path: Path, flag: dict[str, bool]
) -> None:
    # Defect 5: with force, an empty (or wrong) source planned the whole target.
    for key in ("a", "b", "c"):
        pair.put(key, "x", bucket=pair.target)
    before = pair.entries()

    result, lines = run_engine(pair, tmp_path, {"maxPurgeFraction": 1.0, **flag})

    assert result.refusal is not None
    assert "the source lists no entry in scope" in result.refusal
    assert "allowUnrelatedSource" in result.refusal
    assert pair.entries() == before
    assert lines == []


def test_a_source_sharing_no_key_is_refused_unless_allowed(
    pair: BucketPair, tmp_path: Path
) -> None:
    pair.put("elsewhere", "x")
    pair.put("mine", "x", bucket=pair.target)
    before = pair.entries()

    refused, _ = run_engine(pair, tmp_path / "1", {"force": True})
    assert refused.refusal is not None
    assert "share no key" in refused.refusal
    assert pair.entries() == before

    allowed, _ = run_engine(
        pair, tmp_path / "2", {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}
    )
    assert allowed.refusal is None
    assert allowed.summary.totals.purged == 1


def test_the_cli_refuses_an_unrelated_source_with_exit_2(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair.put("a", "x", bucket=pair.target)

    code = main(cli(pair, "--force", "--report", str(tmp_path)))

    assert code == EXIT_INVALID
    assert "--allow-unrelated-source" in capsys.readouterr().err
    assert pair.all_keys(pair.target) == {"a"}


def test_folder_objects_do_not_churn(pair: BucketPair, tmp_path: Path) -> None:
    # Defect 4: DataSync writes 'dir/' folder objects the source never has; every run
    # purged them as vanished keys and every sync wrote them again.
    pair.put("dir/sub/file", "x")
    pair.put("dir/gone", "x")
    pair.sync(folder_objects=True)
    assert {"dir/", "dir/sub/"} <= pair.all_keys(pair.target)

    first, lines = run_engine(pair, tmp_path / "1", {"maxPurgeFraction": 1.0})
    pair.sync(folder_objects=True)
    second, _ = run_engine(pair, tmp_path / "2", {"maxPurgeFraction": 1.0})

    assert lines == []
    assert (first.summary.totals.planned, second.summary.totals.planned) == (0, 0)
    # And a folder whose content is gone from the source goes with it
    pair.purge_source_key("dir/sub/file")
    pair.sync(folder_objects=True)
    third, lines = run_engine(pair, tmp_path / "3", {"maxPurgeFraction": 1.0})
    assert {line["key"] for line in lines if line["outcome"] == "purged"} == {
        "dir/sub/",
        "dir/sub/file",
    }
    assert third.summary.by_proof == {"vanished": len(lines)}


def test_a_report_destination_in_the_source_is_refused(
    pair: BucketPair, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defect 7: the report would have been written into the source (invariant 2).
    pair.put("live", "x")
    pair.sync()
    pair.put("gone", "x", bucket=pair.target)
    source_before = pair.entries(pair.source)

    code = main(cli(pair, "--report", f"s3://{pair.source}/reports"))

    assert code == EXIT_INVALID
    assert "source bucket" in capsys.readouterr().err
    assert pair.entries(pair.source) == source_before
    assert "gone" in pair.all_keys(pair.target)


def test_a_report_destination_in_the_target_is_never_purged(
    pair: BucketPair, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defect 7: the next run purged the previous run's report as vanished keys.
    pair.put("live", "x")
    pair.sync()
    report = f"s3://{pair.target}/reports/"

    assert main(cli(pair, "--report", report, "--json")) == EXIT_OK
    first = json.loads(capsys.readouterr().out)
    assert main(cli(pair, "--report", report, "--json")) == EXIT_OK
    second = json.loads(capsys.readouterr().out)

    assert second["totals"]["planned"] == 0
    # (and the CLI's run lock, which lives in the target: syncpurge.cli.lock)
    assert second["scope"]["excludedTargetPrefixes"] == [".syncpurge/", "reports/"]
    assert f"reports/{first['runId']}/summary.json" in pair.all_keys(pair.target)
