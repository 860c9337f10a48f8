"""Issue 4: the CDK app, synthesized in both config variants and checked."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App
from cfnlint.api import ManualArgs, lint_file

from syncpurge.workflow.context import RunConfig
from syncpurge_infra.app import build
from syncpurge_infra.config import ConfigError, DeploymentConfig
from syncpurge_local.runtime import DEFINITION, placeholders
from tests.infra.conftest import (
    CREATES_EVERYTHING,
    USES_EXISTING,
    Synthesized,
)

pytestmark = pytest.mark.infra


def test_definition_is_the_workflow_file_with_exactly_its_substitutions(
    variant: Synthesized,
) -> None:
    (machine,) = variant.resources("AWS::StepFunctions::StateMachine").values()
    properties = machine["Properties"]
    deployed = json.loads(properties["DefinitionString"])
    timeout = deployed.pop("TimeoutSeconds")
    in_file = json.loads(DEFINITION.read_text())
    in_file.pop("TimeoutSeconds")
    assert deployed == in_file
    assert timeout == variant.stack.config.timeout_seconds
    assert set(properties["DefinitionSubstitutions"]) == placeholders(DEFINITION.read_text())
    assert properties["DefinitionSubstitutions"]["SourceBucket"] == "corp-src"
    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"


def test_an_unset_region_setting_is_what_prepare_reads_as_ask_the_bucket(
    existing: Synthesized,
) -> None:
    (machine,) = existing.resources("AWS::StepFunctions::StateMachine").values()
    # The definition's value for an unset sourceRegion reaches Prepare as "ask the bucket"
    given = machine["Properties"]["DefinitionSubstitutions"]["SourceRegion"]
    fields = {"sourceBucket": "s", "targetBucket": "t", "reportBucket": "r"}
    context = {"stateMachineArn": "m", "executionArn": "e", "executionName": "n"}
    config = RunConfig.model_validate(
        {**fields, **context, "startTime": "2026-12-02T00:00:00Z", "sourceRegion": given}
    )
    assert config.source_region == ""


def test_the_schedule_starts_the_machine_with_the_scheduled_request(creating: Synthesized) -> None:
    (schedule,) = creating.resources("AWS::Scheduler::Schedule").values()
    target = schedule["Properties"]["Target"]
    (machine_id,) = creating.resources("AWS::StepFunctions::StateMachine")
    assert target["Arn"] == {"Ref": machine_id}
    # The deployment's guard limits; requireApproval makes the scheduled run a dry run.
    assert json.loads(target["Input"]) == {
        "maxPurge": 5000,
        "maxPurgeFraction": 0.2,
        "dryRun": True,
    }
    assert schedule["Properties"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["Properties"]["ScheduleExpressionTimezone"] == "UTC"


def test_schedule_off_deploys_no_schedule(existing: Synthesized) -> None:
    assert existing.resources("AWS::Scheduler::Schedule") == {}


def test_every_lambda_is_python_3_12_or_newer_on_arm64_with_powertools(
    variant: Synthesized,
) -> None:
    functions = variant.resources("AWS::Lambda::Function")
    events = bool(variant.resources("AWS::SQS::Queue"))  # the event path's consumer too
    assert len(functions) == 7 + events
    for function in functions.values():
        properties = function["Properties"]
        assert re.fullmatch(r"python3\.(1[2-9]|[2-9]\d)", properties["Runtime"])
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert "AWSLambdaPowertoolsPythonV3-python313-arm64" in json.dumps(properties["Layers"])
    handlers = {f["Properties"]["Handler"] for f in functions.values()}
    steps = ("prepare", "plan", "diff", "guard", "purge", "report", "erase")
    steps += ("events",) * events
    assert handlers == {f"syncpurge_handlers.{s}.handler" for s in steps}


def test_log_groups_have_a_retention(variant: Synthesized) -> None:
    groups = variant.resources("AWS::Logs::LogGroup")
    events = bool(variant.resources("AWS::SQS::Queue"))
    assert len(groups) == 8 + events  # seven functions (eight with events=on), the machine
    assert {g["Properties"]["RetentionInDays"] for g in groups.values()} == {90}


def test_created_task_copies_changed_files_removes_deletions_and_reports_versions(
    creating: Synthesized, existing: Synthesized
) -> None:
    (task,) = creating.resources("AWS::DataSync::Task").values()
    properties = task["Properties"]
    assert properties["TaskMode"] == "ENHANCED"
    assert properties["Options"]["TransferMode"] == "CHANGED"
    assert properties["Options"]["PreserveDeletedFiles"] == "REMOVE"
    assert properties["TaskReportConfig"]["ObjectVersionIds"] == "INCLUDE"
    assert existing.resources("AWS::DataSync::Task") == {}


def test_created_report_bucket_is_encrypted_private_tls_only_and_expires_workspaces(
    creating: Synthesized,
) -> None:
    (bucket,) = creating.resources("AWS::S3::Bucket").values()
    properties = bucket["Properties"]
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(properties["PublicAccessBlockConfiguration"].values())
    rules = properties["LifecycleConfiguration"]["Rules"]
    assert any(r.get("Prefix") == "syncpurge-work/" and r.get("ExpirationInDays") for r in rules)
    (policy,) = creating.resources("AWS::S3::BucketPolicy").values()
    assert "aws:SecureTransport" in json.dumps(policy)


def test_alarm_on_failed_or_timed_out_executions_goes_to_the_notification_topic(
    variant: Synthesized,
) -> None:
    (alarm,) = [
        a
        for a in variant.resources("AWS::CloudWatch::Alarm").values()
        if "Metrics" in a["Properties"]
    ]
    metrics = json.dumps(alarm["Properties"]["Metrics"])
    assert "ExecutionsFailed" in metrics
    assert "ExecutionsTimedOut" in metrics
    (topic_id,) = variant.resources("AWS::SNS::Topic")
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_outputs_name_the_machine_its_console_and_the_reports(variant: Synthesized) -> None:
    outputs = variant.json["Outputs"]
    assert {"StateMachineArn", "StateMachineConsoleUrl", "ReportLocation"} <= set(outputs)
    assert "console.aws.amazon.com/states" in json.dumps(outputs["StateMachineConsoleUrl"])


def test_cfn_lint_is_clean(variant: Synthesized) -> None:
    # W3005: CDK adds DependsOn on each role beside the GetAtt that already orders it.
    matches = lint_file(variant.path, config=ManualArgs(ignore_checks=["W3005"]))
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize(
    ("context", "named"),
    [
        ({"targetBucket": "corp-dst"}, "sourceBucket"),
        ({**CREATES_EVERYTHING, "targetBucket": "corp-src"}, "must differ"),
        ({**CREATES_EVERYTHING, "schedule": "every day"}, "schedule"),
        ({**CREATES_EVERYTHING, "taskArn": "task-1"}, "taskArn"),
        ({**CREATES_EVERYTHING, "alarmEmail": "nobody"}, "alarmEmail"),
        ({**CREATES_EVERYTHING, "sourceBucket": "Bad_Name"}, "sourceBucket"),
        ({**CREATES_EVERYTHING, "mode": "mirror"}, "mode"),
        ({**CREATES_EVERYTHING, "reportBucket": "corp-dst"}, "reportBucket"),
        # A typo must not deploy silently without the setting it meant
        ({**CREATES_EVERYTHING, "alarmEmial": "ops@example.com"}, "did you mean 'alarmEmail'"),
        ({**CREATES_EVERYTHING, "schedual": "off"}, "'schedual' is not a setting"),
        ({**CREATES_EVERYTHING, "diffMaxConcurrency": "0"}, "diffMaxConcurrency"),
        ({**CREATES_EVERYTHING, "purgeMaxConcurrency": "20000"}, "purgeMaxConcurrency"),
        ({**CREATES_EVERYTHING, "diffMemoryMb": "64"}, "diffMemoryMb"),
        ({**CREATES_EVERYTHING, "targetAccount": "12345"}, "targetAccount"),
        # Issue 28, defect 8: the definition carries the prefixes comma-joined, DataSync
        # Includes '|'-joined with '*' a wildcard, relative to the location
        ({**CREATES_EVERYTHING, "prefixes": '["logs,img/"]'}, "prefixes"),
        ({**CREATES_EVERYTHING, "prefixes": "logs/*"}, "prefixes"),
        ({**CREATES_EVERYTHING, "prefixes": "a|b/"}, "prefixes"),
        ({**CREATES_EVERYTHING, "prefixes": "logs/,/img/"}, "prefixes"),
        # Issue 28, defect 9: the event path deletes unattended; approval means a person
        (
            {**CREATES_EVERYTHING, "events": "on", "requireApproval": "true"},
            "events=on and requireApproval=true",
        ),
    ],
)
def test_a_bad_config_fails_synth_naming_the_key(context: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)) as raised:
        build(App(context=context))
    assert "\n" not in str(raised.value)  # one line


def test_context_strings_are_coerced() -> None:
    config = DeploymentConfig.from_context(USES_EXISTING.get)
    assert config.prefixes == ["logs/", "img/"]
    assert config.bypass_governance is True
    assert config.scheduled_request == {
        "prefixes": ["logs/", "img/"],
        "maxPurge": 100_000,
        "maxPurgeFraction": 0.05,
    }


def test_the_notification_topic_is_always_created_exported_and_published_to_by_report(
    variant: Synthesized,
) -> None:
    (topic_id,) = variant.resources("AWS::SNS::Topic")
    outputs = variant.json["Outputs"]
    exported = [o for o in outputs.values() if o.get("Value") == {"Ref": topic_id}]
    assert exported
    assert exported[0]["Export"]["Name"].endswith("-NotificationTopicArn")
    substitutions = variant.resources("AWS::StepFunctions::StateMachine")
    (machine,) = substitutions.values()
    assert machine["Properties"]["DefinitionSubstitutions"]["NotificationTopicArn"] == {
        "Ref": topic_id
    }
    publishes = [
        statement
        for policy in variant.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sns:Publish"
    ]
    assert publishes
    assert all(statement["Resource"] == {"Ref": topic_id} for statement in publishes)


def test_an_email_is_subscribed_only_when_alarm_email_is_set(
    creating: Synthesized, existing: Synthesized
) -> None:
    (subscription,) = creating.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    assert existing.resources("AWS::SNS::Subscription") == {}
    assert len(existing.resources("AWS::SNS::Topic")) == 1


def test_the_dashboard_shows_run_figures_beside_executions(variant: Synthesized) -> None:
    (dashboard,) = variant.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in ("RunPurged", "RunFailed", "RunBytesReclaimed", "RunsGuardTripped"):
        assert name in body
    for name in ("ExecutionsStarted", "ExecutionsFailed", "ExecutionsTimedOut"):
        assert name in body


def test_the_approval_setting_reaches_the_run(creating: Synthesized, existing: Synthesized) -> None:
    def require_approval(variant: Synthesized) -> str:
        (machine,) = variant.resources("AWS::StepFunctions::StateMachine").values()
        return str(machine["Properties"]["DefinitionSubstitutions"]["RequireApproval"])

    assert require_approval(creating) == "true"
    assert require_approval(existing) == "false"


def test_concurrency_and_memory_settings_reach_the_maps_and_functions(
    creating: Synthesized, existing: Synthesized
) -> None:
    def figures(variant: Synthesized) -> tuple[str, str, dict[str, int]]:
        (machine,) = variant.resources("AWS::StepFunctions::StateMachine").values()
        given = machine["Properties"]["DefinitionSubstitutions"]
        memory = {
            f["Properties"]["Description"].split()[1]: f["Properties"]["MemorySize"]
            for f in variant.resources("AWS::Lambda::Function").values()
            if f["Properties"].get("Description", "").startswith("syncpurge ")
        }
        return given["DiffMaxConcurrency"], given["PurgeMaxConcurrency"], memory

    # the Maps read them from the run's config (MaxConcurrencyPath), filled from these
    definition = json.loads(DEFINITION.read_text())
    paths = {
        state["Label"]: state["MaxConcurrencyPath"]
        for state in definition["States"].values()
        if state.get("Type") == "Map"
    }
    assert paths == {
        "Diff": "$.run.config.diffMaxConcurrency",
        "Purge": "$.run.config.purgeMaxConcurrency",
    }
    diff, purge, memory = figures(creating)
    assert (diff, purge, memory["diff"], memory["purge"]) == ("300", "4", 3008, 1024)
    diff, purge, memory = figures(existing)
    assert (diff, purge, memory["diff"], memory["purge"]) == ("800", "10", 1769, 1024)


def test_the_deployment_mode_reaches_every_request_through_the_definition(
    existing: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Issue 17, defect 6: not only the schedule's input; Prepare defaults every request to
    # it and refuses the other mode.
    replication = Synthesized(
        {"sourceBucket": "corp-src", "targetBucket": "corp-dst", "mode": "replication"},
        tmp_path_factory.mktemp("replication"),
    )

    def mode(variant: Synthesized) -> str:
        (machine,) = variant.resources("AWS::StepFunctions::StateMachine").values()
        return str(machine["Properties"]["DefinitionSubstitutions"]["Mode"])

    assert mode(replication) == "replication"
    assert mode(existing) == "datasync"


def test_bucket_owners_default_to_the_stack_s_account(
    creating: Synthesized, existing: Synthesized
) -> None:
    # Issue 19 (first part): every request on a bucket names its expected owner
    def owners(variant: Synthesized) -> tuple[Any, Any]:
        (machine,) = variant.resources("AWS::StepFunctions::StateMachine").values()
        given = machine["Properties"]["DefinitionSubstitutions"]
        return given["SourceAccount"], given["TargetAccount"]

    assert owners(creating) == ({"Ref": "AWS::AccountId"}, {"Ref": "AWS::AccountId"})
    assert owners(existing) == ("111111111111", {"Ref": "AWS::AccountId"})
