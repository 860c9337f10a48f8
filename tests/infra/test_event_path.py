"""The event path's resources (docs/design.md §13, issue 20): off unless asked for; with events=on
a rule on the source's permanent deletes, an encrypted queue with a dead-letter queue, a
consumer one delivery at a time, and alarms to the notification topic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from syncpurge_infra.app import build
from syncpurge_infra.config import ConfigError
from tests.iam import resolved
from tests.infra.conftest import (
    ACCOUNT,
    CREATES_EVERYTHING,
    WITH_EVENTS,
    Synthesized,
    as_list,
    statements,
)

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


# ------------------------------------------------------------------ issue 28, defect 4

OTHER_RULE = "arn:aws:events:us-east-1:123456789012:rule/someone-else"


def send_statements(synthesized: Synthesized, queue_id: str) -> list[dict[str, Any]]:
    """The statements of the queue's resource policies that name sqs:SendMessage."""
    return [
        statement
        for policy in synthesized.resources("AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in policy["Properties"]["Queues"]
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        if "sqs:SendMessage" in as_list(statement["Action"])
    ]


def condition_holds(condition: dict[str, Any], source_arn: Any) -> bool:
    """aws:SourceArn conditions for a sender (None: a principal's own call, which carries
    no aws:SourceArn; a negated operator then holds, a plain one doesn't)."""
    for operator, keys in condition.items():
        if operator == "Bool":  # aws:SecureTransport: the sender uses TLS
            return keys["aws:SecureTransport"] == "true"
        wanted = keys["aws:SourceArn"]
        if operator == "ArnEquals" and source_arn != wanted:
            return False
        if operator == "ArnNotEquals" and source_arn == wanted:
            return False
    return True


def denied(synthesized: Synthesized, queue_id: str, source_arn: Any) -> bool:
    return any(
        s["Effect"] == "Deny" and condition_holds(s.get("Condition", {}), source_arn)
        for s in send_statements(synthesized, queue_id)
    )


def events_allowed(synthesized: Synthesized, queue_id: str, source_arn: Any) -> bool:
    return any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "events.amazonaws.com"}
        and condition_holds(s.get("Condition", {}), source_arn)
        for s in send_statements(synthesized, queue_id)
    ) and not denied(synthesized, queue_id, source_arn)


@pytest.mark.parametrize("which", ["Queue", "DeadLetters"])
def test_only_the_rule_may_send_to_the_queue_and_its_dead_letter_queue(
    eventful: Synthesized, which: str
) -> None:
    # Given the event path's queues and its rule
    (queue_id,) = [q for q in eventful.resources("AWS::SQS::Queue") if f"EventPath{which}" in q]
    (rule_id,) = eventful.resources("AWS::Events::Rule")
    rule = {"Fn::GetAtt": [rule_id, "Arn"]}

    # Then the rule delivers (the queue as its target, the DLQ as its dead-letter config)
    assert events_allowed(eventful, queue_id, rule)
    # and no one else sends: not a principal of the account, nor another rule
    assert denied(eventful, queue_id, None)
    assert denied(eventful, queue_id, OTHER_RULE)
    assert not events_allowed(eventful, queue_id, OTHER_RULE)


def test_the_rule_takes_events_of_the_source_s_owner_only(
    eventful: Synthesized, replicating: Synthesized
) -> None:
    def accounts(synthesized: Synthesized) -> Any:
        return only(synthesized.resources("AWS::Events::Rule"))["Properties"]["EventPattern"][
            "account"
        ]

    assert accounts(eventful) == [{"Ref": "AWS::AccountId"}]  # the stack's own
    assert accounts(replicating) == ["111111111111"]  # sourceAccount


# ------------------------------------------------------- issue 28, defects 9 and 12 (b)


def event_path_config(synthesized: Synthesized) -> dict[str, Any]:
    consumer = next(
        f
        for f in synthesized.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "syncpurge_handlers.events.handler"
    )
    value = consumer["Properties"]["Environment"]["Variables"]["SYNCPURGE_EVENT_PATH"]
    config: dict[str, Any] = json.loads(resolved(value, {"AWS::AccountId": ACCOUNT}))
    return config


def test_the_consumer_is_told_the_report_bucket_s_owner_and_the_approval_setting(
    eventful: Synthesized,
) -> None:
    config = event_path_config(eventful)

    assert config["reportAccount"] == ACCOUNT  # the stack's own account
    assert config["requireApproval"] is False
