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
# A deployment (creating its task) with the event path (DESIGN §13), a day's hold.
WITH_EVENTS = {
    "sourceBucket": "corp-src",
    "targetBucket": "corp-dst",
    "prefixes": "logs/,img/",
    "events": "on",
    "eventHoldMinutes": "1440",
    "eventMaxPurgePerHour": "500",
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


@pytest.fixture(params=["creating", "existing", "eventful"])
def variant(request: pytest.FixtureRequest) -> Synthesized:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


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
