"""Least privilege, checked on every variant: no write on the source, deletes only by the
purging roles, and cdk-nag's AwsSolutions pack clean with every wildcard excused by name
(issue 28, defect 12)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match

from syncpurge_handlers.erase import REAPPEARED_METRIC, RECEIPT_KEY_ENV
from syncpurge_infra.app import build
from syncpurge_infra.constructs.common import allow
from tests.infra.conftest import (
    CREATES_EVERYTHING,
    MUTATING,
    Synthesized,
    as_list,
    statements,
)

pytestmark = pytest.mark.infra


def test_no_statement_allows_writing_or_deleting_the_source_bucket(variant: Synthesized) -> None:
    checked = 0
    for logical_id, statement in statements(variant):
        if statement.get("Effect") != "Allow":
            continue
        resources = json.dumps(statement.get("Resource", "*"))
        actions = as_list(statement["Action"])
        if "corp-src" in resources or resources == '"*"':
            mutating = [a for a in actions if MUTATING.match(a)]
            assert mutating == [], f"{logical_id} may {mutating} on {resources}"
            checked += 1
    assert checked >= 3  # Prepare, Plan/Diff and Purge all read the source


def test_only_the_purge_roles_delete_and_only_target_versions(variant: Synthesized) -> None:
    # Purge and Erase, and the event path's consumer when the deployment has it (events=on)
    deleting = [
        (lid, s)
        for lid, s in statements(variant)
        if any(str(a).startswith("s3:Delete") for a in as_list(s["Action"]))
    ]
    on_target = [(lid, s) for lid, s in deleting if "corp-dst" in json.dumps(s["Resource"])]
    purging = [
        (lid, s)
        for lid, s in on_target
        if lid.startswith(("FunctionsPurgeRole", "FunctionsEraseRole", "FunctionsEventsRole"))
    ]
    datasync = [(lid, s) for lid, s in deleting if lid.startswith("DataSyncTargetAccess")]
    events = bool(variant.resources("AWS::SQS::Queue"))
    assert len(purging) == (3 if events else 2)
    for _, statement in purging:
        deletes = {a for a in as_list(statement["Action"]) if a.startswith("s3:Delete")}
        assert deletes == {"s3:DeleteObjectVersion"}
        assert all("corp-dst/" in json.dumps(r) for r in as_list(statement["Resource"]))
    assert len(deleting) == len(purging) + len(datasync)


def test_governance_bypass_is_granted_only_when_configured(
    creating: Synthesized, existing: Synthesized
) -> None:
    def bypass(synthesized: Synthesized) -> bool:
        return any(
            "s3:BypassGovernanceRetention" in as_list(s["Action"])
            for _, s in statements(synthesized)
        )

    assert not bypass(creating)
    assert bypass(existing)


def test_cdk_nag_aws_solutions_has_no_unsuppressed_finding(variant: Synthesized) -> None:
    annotations = Annotations.from_stack(variant.stack)
    errors = annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [e.entry.data for e in errors] == []
    assert [w.entry.data for w in warnings] == []


def test_every_suppression_is_scoped_to_a_resource_and_justified(variant: Synthesized) -> None:
    suppressions = [
        (logical_id, rule)
        for logical_id, resource in variant.json["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert suppressions
    for logical_id, rule in suppressions:
        assert len(rule["reason"]) >= 40, f"{logical_id} {rule['id']}: say why"
        if rule["id"] == "AwsSolutions-IAM5":
            # Issue 28, 12 (c): each wildcard by name, never the whole role
            found = rule.get("applies_to")
            assert found, f"{logical_id}: an IAM5 suppression names the wildcards it excuses"
            assert all(
                isinstance(f, str) and f.startswith(("Resource::", "Action::")) for f in found
            )
    assert "Metadata" not in variant.json.get("Metadata", {}).get("cdk_nag", {})


def iam5_errors(stack: Any) -> list[tuple[str, str]]:
    """(construct path, message) of each unsuppressed AwsSolutions-IAM5 finding."""
    errors = Annotations.from_stack(stack).find_error(
        "*", Match.string_like_regexp("AwsSolutions-IAM5.*")
    )
    return [(e.id, str(e.entry.data)) for e in errors]


@pytest.mark.parametrize(
    ("step", "actions", "resource", "finding"),
    [
        # a wildcard resource another step's role is excused for, but not this one
        ("purge", ["s3:GetObject"], "arn:${AWS::Partition}:s3:::corp-src/*", "corp-src/*"),
        # a wildcard action
        ("report", ["s3:Get*"], "arn:aws:s3:::corp-reports", "Action::s3:Get*"),
    ],
)
def test_a_wildcard_nobody_excused_fails_cdk_nag(
    tmp_path: Any, step: str, actions: list[str], resource: str, finding: str
) -> None:
    # Given the app, and one more grant with a wildcard on a step's role
    app = App(context=CREATES_EVERYTHING, outdir=str(tmp_path))
    stack = build(app)
    functions = stack.node.find_child("Functions")
    partition = resource.replace("${AWS::Partition}", stack.partition)
    functions.roles[step].add_to_policy(  # type: ignore[attr-defined]
        iam.PolicyStatement(actions=actions, resources=[partition])
    )

    # When it synthesizes, then cdk-nag fails it on exactly that wildcard
    app.synth()
    ((path, message),) = iam5_errors(stack)
    assert f"/Functions/{step.capitalize()}Role/" in path
    assert finding in message


def test_a_wildcard_grant_must_say_why() -> None:
    app = App(context=CREATES_EVERYTHING)
    stack = build(app)
    role = stack.node.find_child("Functions").roles["plan"]  # type: ignore[attr-defined]

    with pytest.raises(ValueError, match="say why"):
        allow(role, ["s3:GetObject"], ["arn:aws:s3:::corp-reports/*"])


def test_the_state_machine_invokes_only_its_seven_steps(eventful: Synthesized) -> None:
    # Issue 28, 12 (d): not the event path's consumer
    functions = {
        f["Properties"]["Handler"].split(".")[1]: logical_id
        for logical_id, f in eventful.resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Handler", "").startswith("syncpurge_handlers.")
    }
    (machine,) = eventful.resources("AWS::StepFunctions::StateMachine").values()
    role = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    invoked = {
        json.dumps(resource)
        for logical_id, statement in statements(eventful)
        if "lambda:InvokeFunction" in as_list(statement["Action"])
        and {"Ref": role} in eventful.json["Resources"][logical_id]["Properties"].get("Roles", [])
        for resource in as_list(statement["Resource"])
    }
    named = {step for step, lid in functions.items() if any(lid in r for r in invoked)}

    assert named == {"prepare", "plan", "diff", "guard", "purge", "report", "erase"}


def test_cloudwatch_may_only_encrypt_for_this_account_s_alarms(variant: Synthesized) -> None:
    # Issue 28, 12 (e): what SNS needs of the topic key for an alarm, nothing more
    (key,) = [
        k
        for k in variant.resources("AWS::KMS::Key").values()
        if k["Properties"].get("KeyUsage") != "SIGN_VERIFY"  # the receipt key signs only
    ]
    for_cloudwatch = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]

    (statement,) = for_cloudwatch
    assert set(as_list(statement["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    condition = statement["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    alarms = json.dumps(condition["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in alarms
    assert ":alarm:*" in alarms


def test_only_erase_signs_receipts_with_the_stacks_asymmetric_key(eventful: Synthesized) -> None:
    ((key_id, key),) = [
        (k, v)
        for k, v in eventful.resources("AWS::KMS::Key").items()
        if v["Properties"].get("KeyUsage") == "SIGN_VERIFY"
    ]
    assert key["Properties"]["KeySpec"] == "ECC_NIST_P256"
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    signers = {
        role["Ref"]
        for logical_id, statement in statements(eventful)
        if "kms:Sign" in as_list(statement["Action"])
        for role in eventful.json["Resources"][logical_id]["Properties"].get("Roles", [])
    }
    erase_role = [
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in eventful.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "syncpurge_handlers.erase.handler"
    ]
    assert signers == set(erase_role)
    (erase,) = [
        f
        for f in eventful.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "syncpurge_handlers.erase.handler"
    ]
    variables = erase["Properties"]["Environment"]["Variables"]
    assert variables[RECEIPT_KEY_ENV] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_an_erased_key_that_came_back_raises_an_alarm_to_the_topic(eventful: Synthesized) -> None:
    alarms = [
        a["Properties"]
        for a in eventful.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == REAPPEARED_METRIC
    ]

    (alarm,) = alarms
    assert alarm["Namespace"] == "syncpurge"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    (topic,) = eventful.resources("AWS::SNS::Topic")
    assert alarm["AlarmActions"] == [{"Ref": topic}]
