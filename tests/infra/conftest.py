"""What the infra tests share: the two synthesized deployments and their IAM statements."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from syncpurge_infra.app import build
from tests.iam import function_roles, template_statements

CREATES_EVERYTHING = {
    "sourceBucket": "corp-src",
    "targetBucket": "corp-dst",
    "alarmEmail": "ops@example.com",
    "maxPurge": "5000",
    "maxPurgeFraction": "0.2",
    "requireApproval": "true",
    "timeoutSeconds": "172800",
    "diffMaxConcurrency": "300",
    "purgeMaxConcurrency": "4",
    "diffMemoryMb": "3008",
}
USES_EXISTING = {
    "sourceBucket": "corp-src",
    "targetBucket": "corp-dst",
    "taskArn": "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0",
    "reportBucket": "corp-reports",
    "schedule": "off",
    "bypassGovernance": "true",
    "prefixes": "logs/,img/",
    "mode": "datasync",
    "sourceAccount": "111111111111",
}
# A deployment (creating its task) with the event path (docs/design.md §13), a day's hold.
WITH_EVENTS = {
    "sourceBucket": "corp-src",
    "targetBucket": "corp-dst",
    "prefixes": "logs/,img/",
    "events": "on",
    "eventHoldMinutes": "1440",
    "eventMaxPurgePerHour": "500",
}
# S3 Replication into a backup account (docs/deploy.md "Across accounts and Regions"): the source
# and the target each owned by another account, the event path on, one prefix.
REPLICATING = {
    "sourceBucket": "corp-src",
    "targetBucket": "corp-dst",
    "mode": "replication",
    "sourceAccount": "111111111111",
    "targetAccount": "222222222222",
    "prefixes": "data/",
    "events": "on",
}
# Writing or deleting anything: never allowed on the source bucket.
MUTATING = re.compile(r"^s3:(Delete|Put|Abort|Bypass|Replicate|Restore|Create|Update)|^s3:\*$|^\*$")


class Synthesized:
    def __init__(self, context: dict[str, Any], outdir: Path) -> None:
        app = App(context=context, outdir=str(outdir))
        self.stack = build(app)
        assembly = app.synth()
        self.template = Template.from_stack(self.stack)
        self.path = outdir / f"{self.stack.stack_name}.template.json"
        self.json: dict[str, Any] = json.loads(self.path.read_text())
        assert assembly.get_stack_by_name(self.stack.stack_name)

    def resources(self, kind: str) -> dict[str, Any]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="module")
def creating(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(CREATES_EVERYTHING, tmp_path_factory.mktemp("creating"))


@pytest.fixture(scope="module")
def existing(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(USES_EXISTING, tmp_path_factory.mktemp("existing"))


@pytest.fixture(scope="module")
def eventful(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(WITH_EVENTS, tmp_path_factory.mktemp("eventful"))


@pytest.fixture(scope="module")
def replicating(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(REPLICATING, tmp_path_factory.mktemp("replicating"))


# Every variant the docs describe: a created task, a given taskArn, replication, the
# event path, prefixes, buckets in other accounts.
@pytest.fixture(params=["creating", "existing", "eventful", "replicating"])
def variant(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


# The names a synthesized template's Refs and GetAtts take in role_grants.
ACCOUNT = "123456789012"
CREATED_TASK_ARN = "arn:aws:datasync:us-east-1:123456789012:task/task-0000000000000000a"
CREATED_REPORTS = "created-reports"


def role_grants(synthesized: Synthesized) -> dict[str, list[dict[str, Any]]]:
    """Each function's role's statements (by step), the template's Refs resolved: the
    stack's account, the created report bucket and task by the names above."""
    template = synthesized.json
    refs = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": "us-east-1"}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::S3::Bucket":
            refs[logical_id] = CREATED_REPORTS
            refs[f"{logical_id}.Arn"] = f"arn:aws:s3:::{CREATED_REPORTS}"
        if resource["Type"] == "AWS::DataSync::Task":
            refs[f"{logical_id}.TaskArn"] = CREATED_TASK_ARN
    return {
        step: template_statements(template, role, refs)
        for step, role in function_roles(template).items()
    }


def statements(synthesized: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, resource in synthesized.json["Resources"].items():
        if resource["Type"] == "AWS::IAM::Policy":
            found += [
                (logical_id, s) for s in resource["Properties"]["PolicyDocument"]["Statement"]
            ]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
