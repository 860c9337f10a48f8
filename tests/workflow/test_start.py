"""`syncpurge start` against the real definition executed on moto."""

from __future__ import annotations

import json

import pytest

from syncpurge.cli import EXIT_FAILED, EXIT_GUARD, EXIT_INVALID, EXIT_OK, main
from tests.helpers import exit_code
from tests.workflow.conftest import Deployed

pytestmark = pytest.mark.workflow


def start(deployed: Deployed, *flags: str) -> int:
    return exit_code(
        [
            "start",
            "--state-machine-arn",
            deployed.state_machine_arn,
            "--region",
            "us-east-1",
            *flags,
        ]
    )


def test_start_follows_and_prints_the_summary(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a small target where a whole-bucket purge would trip the default guard,
    # a per-prefix dry run is within it
    deployed.pair.put("logs/gone", "x", bucket=deployed.pair.target)
    deployed.pair.put("logs/live", "x")

    code = start(deployed, "--prefix", "logs/", "--dry-run", "--json")

    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert code == EXIT_OK
    assert summary["status"] == "DRY_RUN"
    assert summary["prefixes"] == ["logs/"]
    # the sync ran too: DataSync's REMOVE gave the vanished key a delete marker
    assert summary["totals"]["planned"] == 2
    assert "state: " in out.err or "execution SUCCEEDED" in out.err
    assert "logs/gone" in deployed.pair.all_keys()


def test_guard_tripped_exits_3(deployed: Deployed) -> None:
    for i in range(3):
        deployed.pair.put(f"gone{i}", "x", bucket=deployed.pair.target)
    for bucket in (deployed.pair.source, deployed.pair.target):
        deployed.pair.put("live", "x", bucket=bucket)

    assert start(deployed, "--skip-sync") == EXIT_GUARD
    assert len(deployed.pair.all_keys()) == 4


def test_a_refusal_inside_the_execution_exits_2(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.pair.client.put_bucket_versioning(
        Bucket=deployed.pair.source, VersioningConfiguration={"Status": "Suspended"}
    )

    code = start(deployed, "--skip-sync")

    assert code == EXIT_INVALID
    assert "PreflightRefused" in capsys.readouterr().err


def test_bad_flags_exit_2_before_anything_starts(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = start(deployed, "--prefix", "k" * 1100)

    assert code == EXIT_INVALID
    assert "--prefix" in capsys.readouterr().err
    assert deployed.runtime.invocations == []


def test_no_follow_prints_the_execution_and_returns(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = start(deployed, "--no-follow", "--dry-run")

    arn = capsys.readouterr().out.strip()
    assert code == EXIT_OK
    assert arn.startswith("arn:aws:states:")
    assert deployed.runtime.wait(arn).status == "SUCCEEDED"


def test_an_unknown_state_machine_is_an_error_not_a_crash(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "start",
            "--state-machine-arn",
            "arn:aws:states:us-east-1:123456789012:stateMachine:nope",
            "--region",
            "us-east-1",
        ]
    )

    assert code == EXIT_INVALID
    assert "could not start" in capsys.readouterr().err
    assert code != EXIT_FAILED


def test_start_takes_a_whole_request_and_the_request_flags(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    for bucket in (deployed.pair.source, deployed.pair.target):
        deployed.pair.put("logs/live", "x", bucket=bucket)
    deployed.pair.put("logs/gone", "x", bucket=deployed.pair.target)

    code = start(
        deployed,
        "--input",
        '{"prefixes": ["logs/"], "dryRun": true, "maxPurge": 1}',
        "--max-purge-fraction",
        "1",
        "--max-purge",
        "5",
        "--skip-sync",
        "--json",
    )

    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert (summary["status"], summary["prefixes"]) == ("DRY_RUN", ["logs/"])
    assert summary["guard"]["maxPurge"] == 5  # the flag overrides the --input field
    assert summary["guard"]["maxPurgeFraction"] == 1.0


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--input", "not json"], "--input"),
        (["--input", "[1]"], "--input"),
        (["--input", '{"surprise": 1}'], "surprise"),
        (["--input", '{"prefixes": ["s3://wf-source/logs/"]}'], "is an S3 URI"),
        (["--max-purge-fraction", "7"], "--max-purge-fraction"),
        (["--mode", "mirror"], "--mode"),
    ],
)
def test_start_refuses_a_bad_request_before_starting(
    deployed: Deployed, capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    code = start(deployed, *flags)  # argparse refuses a choice itself, with the same code

    assert code == EXIT_INVALID
    assert named in capsys.readouterr().err
    assert deployed.runtime.invocations == []


def test_start_applies_a_stored_plan(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a dry run's plan
    deployed.pair.put_live()
    deployed.pair.put("gone", "x", bucket=deployed.pair.target)
    limits = ("--max-purge-fraction", "1", "--allow-unrelated-source", "--skip-sync", "--json")
    assert start(deployed, "--dry-run", *limits) == EXIT_OK
    run_id = json.loads(capsys.readouterr().out)["runId"]

    # When it is applied from the CLI
    code = start(deployed, "--apply-plan", run_id, *limits)

    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert summary["appliedPlan"] == run_id
    assert summary["totals"]["purged"] == 1
    assert "gone" not in deployed.pair.all_keys()
