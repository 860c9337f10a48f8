"""The report bucket (issue 28, defects 10, 11 and 12 a): the event path's state and the
source verdict under syncpurge-state/, which never expires and only its owner writes;
reports anchored to the report folder, out of DataSync's own; an audit trail that
overwriting can't erase."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam import Need, allowed, resolved
from tests.infra.conftest import (
    CREATED_REPORTS,
    CREATED_TASK_ARN,
    Synthesized,
    role_grants,
)

pytestmark = pytest.mark.infra

CREATED_TASK_ID = CREATED_TASK_ARN.rsplit("/", 1)[-1]
GIVEN_TASK_ID = "task-0123456789abcdef0"  # USES_EXISTING's taskArn


def report_bucket(synthesized: Synthesized) -> str:
    given = synthesized.stack.config.report_bucket
    return f"arn:aws:s3:::{given or CREATED_REPORTS}"


def who_may(synthesized: Synthesized, action: str, key: str) -> set[str]:
    """The steps whose role may call `action` on `key` of the report bucket."""
    need = Need(action, f"{report_bucket(synthesized)}/{key}")
    return {step for step, grants in role_grants(synthesized).items() if allowed(grants, need)}


WRITES = ("s3:PutObject", "s3:DeleteObject")


@pytest.mark.parametrize(
    ("key", "owner"),
    [
        ("syncpurge-state/events/brake.json", "events"),
        ("syncpurge-state/events/holds/0a1b.json", "events"),
        ("syncpurge-state/source-verdict.json", "report"),
    ],
)
def test_only_its_owner_may_write_a_state_file(variant: Synthesized, key: str, owner: str) -> None:
    events = bool(variant.resources("AWS::SQS::Queue"))
    expected = {owner} if owner != "events" or events else set()

    writers = who_may(variant, "s3:PutObject", key)

    assert writers == expected, f"{key}: written by {writers}"
    assert who_may(variant, "s3:DeleteObject", key) == set()


def test_no_role_may_write_anything_else_under_the_state_prefix(variant: Synthesized) -> None:
    for key in ("syncpurge-state/x", "syncpurge-state/events/x", "syncpurge-state/a/b.json"):
        for action in WRITES:
            assert who_may(variant, action, key) == set(), (action, key)


def test_the_event_path_reads_its_state_and_the_verdict(eventful: Synthesized) -> None:
    for key in (
        "syncpurge-state/events/brake.json",
        "syncpurge-state/events/holds/0a1b.json",
        "syncpurge-state/source-verdict.json",
    ):
        assert "events" in who_may(eventful, "s3:GetObject", key)
    brake = resolved(eventful.json["Outputs"]["EventBrake"]["Value"], {only_bucket(eventful): "r"})
    assert brake == "s3://r/syncpurge-state/events/brake.json"


def only_bucket(synthesized: Synthesized) -> str:
    (bucket,) = synthesized.resources("AWS::S3::Bucket")
    return bucket


def test_the_created_report_bucket_is_versioned_and_expires_only_workspaces_and_holds(
    creating: Synthesized,
) -> None:
    properties = creating.resources("AWS::S3::Bucket")[only_bucket(creating)]["Properties"]
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    rules: list[dict[str, Any]] = properties["LifecycleConfiguration"]["Rules"]
    # The workspace and the hold records only: never reports, the brake or the verdict
    assert [r.get("Prefix") for r in rules] == ["syncpurge-work/", "syncpurge-state/events/holds/"]
    workspace, holds = rules
    assert workspace["ExpirationInDays"] == 30
    assert workspace["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert holds["ExpirationInDays"] == 30  # past a 7-day hold inside SQS's 14-day retention
    assert all("Filter" not in rule for rule in rules)


# --------------------------------------------------------------------- defect 11


def report_writers(synthesized: Synthesized, key: str) -> set[str]:
    return who_may(synthesized, "s3:PutObject", key)


@pytest.mark.parametrize(
    ("fixture", "folder", "task_id"),
    [
        ("creating", "datasync-reports/", CREATED_TASK_ID),
        ("existing", "", GIVEN_TASK_ID),
        ("existing", "reports/", GIVEN_TASK_ID),
    ],
)
def test_no_role_may_plant_a_file_in_the_task_s_lineage_reports(
    request: pytest.FixtureRequest, fixture: str, folder: str, task_id: str
) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    lineage = f"{folder}Detailed-Reports/{task_id}/exec-1/"
    # A run's report folder nested inside the task's lineage folder
    planted = f"{lineage}x/Purge-Reports/{task_id}/run/files-transferred-1.json"

    assert report_writers(synthesized, planted) == set()
    assert report_writers(synthesized, f"{lineage}files-transferred-1.json") == set()
    # while each report writer still writes its run's report, and Plan reads the lineage
    report = f"{folder}Purge-Reports/{task_id}/run-1/summary.json"
    assert report_writers(synthesized, report) == {"purge", "report", "erase"}
    assert who_may(synthesized, "s3:GetObject", f"{lineage}files-transferred-1.json") == {"plan"}


def test_plan_reads_only_its_task_s_lineage(creating: Synthesized) -> None:
    other = "datasync-reports/Detailed-Reports/task-0ffffffffffffffff/exec-1/r.json"
    elsewhere = f"elsewhere/Detailed-Reports/{CREATED_TASK_ID}/exec-1/r.json"

    assert "plan" not in who_may(creating, "s3:GetObject", other)
    assert "plan" not in who_may(creating, "s3:GetObject", elsewhere)


def test_reports_are_written_only_in_the_report_folder(
    creating: Synthesized, replicating: Synthesized
) -> None:
    # A created task's reports go to its report Subdirectory; with no task, to the root
    assert report_writers(creating, f"datasync-reports/Purge-Reports/{CREATED_TASK_ID}/r/a")
    assert report_writers(creating, f"x/Purge-Reports/{CREATED_TASK_ID}/r/a") == set()
    assert report_writers(replicating, "Purge-Reports/no-task/r/a") == {
        "purge",
        "report",
        "erase",
        "events",
    }
    assert report_writers(replicating, "x/Purge-Reports/no-task/r/a") == set()
