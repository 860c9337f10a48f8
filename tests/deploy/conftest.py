"""The deploy tier: the CDK app deployed to LocalStack with the docs' own commands, and
runs of the deployed state machine (docs/design.md §12). One control plane for the session; every
test of the tier runs on one xdist worker, in file order (the last one destroys the stack)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from tests.deploy.cloud import EXAMPLE_BUCKETS, Cloud, localstack_cloud, unavailable
from tests.helpers import BucketPair, make_versioned_bucket, read_run_report
from tests.iam import (
    Need,
    call_needs,
    recorded_calls,
    role_statements,
    state_machine_needs,
    ungranted,
)
from tests.s3servers import REPO

DEPLOY_PAGE = "docs/deploy.md"
MARK = "<!-- tests/deploy runs each command of this block as written, in this order -->"


def readme_commands() -> list[str]:
    """The commands of docs/deploy.md's "Deploying against LocalStack" block, as written."""
    text = (REPO / DEPLOY_PAGE).read_text()
    block = re.search(re.escape(MARK) + r"\n```sh\n(.*?)```", text, re.DOTALL)
    assert block, f"{DEPLOY_PAGE} has no block under {MARK}"
    return [line for line in block.group(1).splitlines() if line.strip()]


def readme_command(start: str) -> str:
    """The block's one command that starts with `./dev run <start>`."""
    found = [c for c in readme_commands() if c.startswith(f"./dev run {start}")]
    assert len(found) == 1, (start, found)
    return found[0]


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    reason = unavailable()
    if reason:
        pytest.skip(f"deploy tier skipped: {reason}")
    with localstack_cloud(tmp_path_factory.mktemp("cloud"), record_calls=True) as running:
        s3 = running.client("s3")
        for bucket in EXAMPLE_BUCKETS:
            make_versioned_bucket(s3, bucket)
        yield running


@dataclass
class Execution:
    arn: str
    status: str
    error: str | None
    cause: str | None
    output: dict[str, Any] | None


@dataclass
class DeployedStack:
    cloud: Cloud
    name: str
    outputs: dict[str, str]
    pair: BucketPair
    notification_queue: str

    @property
    def state_machine_arn(self) -> str:
        return self.outputs["StateMachineArn"]

    def start(self, request: dict[str, Any], *, timeout: float = 180) -> Execution:
        """Start an execution as the console does, and wait for its end."""
        sfn = self.cloud.client("stepfunctions")
        arn = sfn.start_execution(
            stateMachineArn=self.state_machine_arn, input=json.dumps(request)
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert time.monotonic() < deadline, f"{arn} still RUNNING after {timeout} s"
            time.sleep(0.5)
        output = described.get("output")
        return Execution(
            arn,
            described["status"],
            described.get("error"),
            described.get("cause"),
            json.loads(output) if output else None,
        )

    def report(self, run_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """summary.json and every entries line of run `run_id`, read from the report bucket."""
        bucket = self.outputs["ReportLocation"].split("/")[2]
        return read_run_report(self.cloud.client("s3"), bucket, run_id)

    def functions(self) -> list[str]:
        resources = self.cloud.client("cloudformation").list_stack_resources(StackName=self.name)
        return sorted(
            r["PhysicalResourceId"]
            for r in resources["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::Lambda::Function"
        )

    def ungranted_calls(self) -> tuple[dict[str, list[Need]], set[str]]:
        """For each of the stack's functions, the needs of the calls it made that its role
        doesn't grant; and the functions that made any call."""
        assert self.cloud.calls is not None
        calls: dict[str, list[dict[str, Any]]] = {}
        for call in recorded_calls(self.cloud.calls):
            calls.setdefault(call["function"], []).append(call)
        lambda_, iam = self.cloud.client("lambda"), self.cloud.client("iam")
        missing: dict[str, list[Need]] = {}
        for function in self.functions():
            role = lambda_.get_function_configuration(FunctionName=function)["Role"]
            needs = [
                need
                for call in calls.get(function, [])
                for need in call_needs(call["service"], call["operation"], call["params"])
            ]
            if lacking := ungranted(role_statements(iam, role), needs):
                missing[function] = lacking
        return missing, set(calls) & set(self.functions())

    def ungranted_integrations(self) -> tuple[list[Need], set[tuple[str, str]]]:
        """What the state machine's integrations need that its role doesn't grant; and the
        (bucket, key) its Distributed Maps' ItemReaders read in the executions so far."""
        sfn = self.cloud.client("stepfunctions")
        described = sfn.describe_state_machine(stateMachineArn=self.state_machine_arn)
        readers = set()
        history = sfn.get_paginator("get_execution_history")
        for execution in sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]:
            for page in history.paginate(executionArn=execution["executionArn"]):
                for event in page["events"]:
                    if event["type"] != "MapStateEntered":
                        continue
                    items = json.loads(event["stateEnteredEventDetails"]["input"]).get("items")
                    if items:
                        readers.add((items["bucket"], items["key"]))
        needs = state_machine_needs(
            json.loads(described["definition"]), self.state_machine_arn, readers
        )
        statements = role_statements(self.cloud.client("iam"), described["roleArn"])
        return ungranted(statements, needs), readers

    def notifications(self, *, wait: float = 10) -> list[dict[str, Any]]:
        """The messages the stack's topic delivered to the subscribed queue so far."""
        sqs = self.cloud.client("sqs")
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while not found and time.monotonic() < deadline:
            answer = sqs.receive_message(
                QueueUrl=self.notification_queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in answer.get("Messages", []):
                found.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=self.notification_queue, ReceiptHandle=message["ReceiptHandle"]
                )
        return found


def stack_outputs(cloud: Cloud, name: str) -> dict[str, str]:
    described = cloud.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    # CDK suffixes an exported output's key with a hash; the export's name is stable.
    for output in described.get("Outputs", []):
        if output.get("ExportName"):
            outputs[output["ExportName"].removeprefix(f"{name}-")] = output["OutputValue"]
    return outputs


@pytest.fixture(scope="session")
def stack(cloud: Cloud) -> DeployedStack:
    """docs/deploy.md's bootstrap and deploy, as written; an SQS queue subscribed to the
    topic the stack exports, as a user subscribes anything to it."""
    cloud.run(readme_command("cdk bootstrap"))
    cloud.run(readme_command("cdk deploy"))
    outputs = stack_outputs(cloud, "syncpurge")
    sqs = cloud.client("sqs")
    queue = sqs.create_queue(QueueName="syncpurge-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    exports = {
        e["Name"]: e["Value"] for e in cloud.client("cloudformation").list_exports()["Exports"]
    }
    cloud.client("sns").subscribe(
        TopicArn=exports["syncpurge-NotificationTopicArn"], Protocol="sqs", Endpoint=queue_arn
    )
    pair = BucketPair(cloud.client("s3"), *EXAMPLE_BUCKETS)
    return DeployedStack(cloud, "syncpurge", outputs, pair, queue)
