"""The event path's resources (DESIGN §13, issue 20): off unless asked for; with events=on
a rule on the source's permanent deletes, an encrypted queue with a dead-letter queue, a
consumer one delivery at a time, and alarms to the notification topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from syncpurge_infra.app import build
from syncpurge_infra.config import ConfigError
from tests.infra.conftest import CREATES_EVERYTHING, WITH_EVENTS, Synthesized, as_list, statements

pytestmark = pytest.mark.infra


def only(resources: dict[str, Any]) -> dict[str, Any]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.values()))


def test_without_the_setting_there_is_no_event_path(creating: Synthesized) -> None:
    assert creating.resources("AWS::Events::Rule") == {}
    assert creating.resources("AWS::SQS::Queue") == {}


def test_the_rule_takes_the_source_s_permanent_deletes_under_the_prefixes(
    eventful: Synthesized,
) -> None:
    rule = only(eventful.resources("AWS::Events::Rule"))
    pattern = rule["Properties"]["EventPattern"]

    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Deleted"]
    assert pattern["detail"]["bucket"] == {"name": ["corp-src"]}
    assert pattern["detail"]["deletion-type"] == ["Permanently Deleted"]
    assert pattern["detail"]["object"] == {"key": [{"prefix": "logs/"}, {"prefix": "img/"}]}


def test_the_queue_is_encrypted_with_a_dead_letter_queue_and_room_for_the_hold(
    eventful: Synthesized,
) -> None:
    queues = eventful.resources("AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])

    assert len(queues) == 2
    assert all(q["Properties"]["SqsManagedSseEnabled"] for q in queues.values())
    # a day's hold is two 12-hour returns to the queue, on top of 5 tries
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 7
    mapping = only(eventful.resources("AWS::Lambda::EventSourceMapping"))
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_consumer_runs_one_delivery_at_a_time_with_the_settings(eventful: Synthesized) -> None:
    consumer = next(
        f
        for f in eventful.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "syncpurge_handlers.events.handler"
    )
    environment = consumer["Properties"]["Environment"]["Variables"]

    assert consumer["Properties"]["ReservedConcurrentExecutions"] == 1
    text = json.dumps(environment["SYNCPURGE_EVENT_PATH"])
    assert '\\"holdMinutes\\":1440' in text
    assert '\\"maxPurgePerHour\\":500' in text
    assert '\\"mode\\":\\"datasync\\"' in text


def test_the_dead_letter_queue_and_the_brake_alarm_the_topic(eventful: Synthesized) -> None:
    alarms = eventful.resources("AWS::CloudWatch::Alarm")
    described = {a["Properties"].get("MetricName"): a["Properties"] for a in alarms.values()}

    assert "ApproximateNumberOfMessagesVisible" in described
    assert "BrakeTripped" in described
    for name in ("ApproximateNumberOfMessagesVisible", "BrakeTripped"):
        actions = json.dumps(described[name]["AlarmActions"])
        assert "NotificationsTopic" in actions


def test_the_consumer_deletes_only_target_versions_and_reads_the_source(
    eventful: Synthesized,
) -> None:
    mine = [s for lid, s in statements(eventful) if lid.startswith("FunctionsEventsRole")]
    on_source = [s for s in mine if "corp-src" in json.dumps(s["Resource"])]

    assert on_source
    for statement in on_source:
        assert not any(a.startswith(("s3:Delete", "s3:Put")) for a in as_list(statement["Action"]))


@pytest.mark.parametrize(
    ("key", "value"),
    [("events", "maybe"), ("eventHoldMinutes", "-1"), ("eventMaxPurgePerHour", "0")],
)
def test_a_bad_event_setting_fails_synth_naming_it(key: str, value: str) -> None:
    from aws_cdk import App

    with pytest.raises(ConfigError, match=key):
        build(App(context={**CREATES_EVERYTHING, **WITH_EVENTS, key: value}))
