"""`syncpurge events status|resume --stack`: the event path's notifications and brake."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from tests.helpers import exit_code, make_versioned_bucket, moto_s3_answering
from tests.integration.test_cli_bucket_policy import deploy_stack

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("aws")]

BRAKE = "syncpurge-work/events/brake.json"


@pytest.fixture
def s3():  # type: ignore[no-untyped-def]
    client = boto3.client("s3", region_name="us-east-1")
    make_versioned_bucket(client, "corp-src")
    client.create_bucket(Bucket="corp-reports")
    deploy_stack({"EventSourceBucket": "corp-src", "EventBrake": f"s3://corp-reports/{BRAKE}"})
    return client


def latch(s3) -> None:  # type: ignore[no-untyped-def]
    state = {
        "hour": "2026-12-01T14",
        "purged": 1000,
        "latched": True,
        "latchedAt": "2026-12-01T14:20:00+00:00",
        "reason": "1001 entries would pass",
    }
    s3.put_object(Bucket="corp-reports", Key=BRAKE, Body=json.dumps(state).encode())


def test_status_says_the_source_sends_no_events_and_how_to_turn_them_on(
    s3,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    code = main(["events", "status", "--stack", "syncpurge", "--json"])

    captured = capsys.readouterr()
    assert code == EXIT_OK
    state = json.loads(captured.out)
    assert state["eventBridgeNotifications"] == "off"
    assert state["brake"]["latched"] is False
    command = " ".join(captured.err.replace("\\\n", " ").split())  # one shell command
    assert "put-bucket-notification-configuration --bucket corp-src" in command
    assert "EventBridgeConfiguration" in captured.err


def eventbridge_on(bucket: str, request: Any) -> Any:
    """GetBucketNotificationConfiguration as S3 answers it with EventBridge notifications on
    (S3 API reference: an EventBridgeConfiguration element); moto 5.2 leaves it out."""
    url = str(getattr(request, "url", ""))
    if bucket == "corp-src" and request.method == "GET" and "notification" in url:
        body = (
            b'<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b"<EventBridgeConfiguration></EventBridgeConfiguration></NotificationConfiguration>"
        )
        return 200, {"Content-Type": "application/xml"}, body
    return None


def test_status_reads_notifications_on_and_a_latched_brake(
    s3,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    latch(s3)

    with moto_s3_answering(eventbridge_on):
        code = main(["events", "status", "--stack", "syncpurge"])

    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert "EventBridge notifications on" in captured.err
    assert "LATCHED" in captured.err
    assert "1001 entries would pass" in captured.err


def test_resume_turns_the_latch_off_and_keeps_the_hour_s_count(
    s3,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    latch(s3)

    code = main(["events", "resume", "--stack", "syncpurge"])

    state = json.loads(s3.get_object(Bucket="corp-reports", Key=BRAKE)["Body"].read())
    assert code == EXIT_OK
    assert (state["latched"], state["purged"], state["hour"]) == (False, 1000, "2026-12-01T14")
    assert "Resumed" in capsys.readouterr().err


def test_a_stack_without_the_event_path_is_refused_naming_the_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_stack({"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"})

    code = exit_code(["events", "status", "--stack", "syncpurge"])

    assert code == EXIT_INVALID
    assert "events=on" in capsys.readouterr().err
