"""The real definition executed on moto by the local runtime, with a DataSync task."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from syncpurge_local.runtime import ExecutionResult, LocalDeployment, LocalRuntime
from tests.helpers import BucketPair, read_run_report, versioned_pair

REPORTS = "syncpurge-reports"


@dataclass
class Deployed:
    runtime: LocalRuntime
    pair: BucketPair
    task_arn: str
    state_machine_arn: str
    notification_queue: str = ""

    def notifications(self) -> list[dict[str, str]]:
        """The SNS notifications published so far ({'Subject', 'Message'}), oldest first."""
        sqs = boto3.client("sqs", region_name="us-east-1")
        found = []
        while batch := sqs.receive_message(
            QueueUrl=self.notification_queue, MaxNumberOfMessages=10
        ).get("Messages", []):
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=self.notification_queue, ReceiptHandle=message["ReceiptHandle"]
                )
        return found

    def run(self, request: Any, **kwargs: Any) -> ExecutionResult:
        return self.runtime.run(self.state_machine_arn, request, **kwargs)

    def report(self, result: ExecutionResult) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """summary.json and every entries line of the run's report."""
        name = result.arn.rsplit(":", 1)[-1]
        bucket = (result.output or {}).get("report", f"s3://{REPORTS}/").split("/")[2]
        return read_run_report(self.pair.client, bucket, name)


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as local:
        yield local


def notification_queue() -> tuple[str, str]:
    """An SNS topic (the stack's notifications) with an SQS queue subscribed to read it."""
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="syncpurge-notifications")["TopicArn"]
    queue = sqs.create_queue(QueueName="syncpurge-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue


def deploy(
    runtime: LocalRuntime,
    *,
    preserve: str = "REMOVE",
    require_approval: bool = False,
    accounts: tuple[str, str] = ("", ""),
    erase_check_days: int = 90,
    prefixes: tuple[str, ...] = (),
    target_lock: bool = False,
    **task: Any,
) -> Deployed:
    """The pair, a DataSync task between them, and the state machine; `accounts`: the
    (source, target) owner settings ("": not checked)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = versioned_pair(s3, "wf-source", "wf-target", reports=REPORTS, target_lock=target_lock)
    task.setdefault("report_bucket", REPORTS)
    task = runtime.create_task(pair.source, pair.target, preserve_deleted_files=preserve, **task)
    topic, queue = notification_queue()
    arn = runtime.deploy(
        LocalDeployment(
            pair.source,
            pair.target,
            REPORTS,
            task,
            notification_topic_arn=topic,
            require_approval=require_approval,
            source_account=accounts[0],
            target_account=accounts[1],
            erase_check_days=erase_check_days,
            prefixes=prefixes,
        )
    )
    return Deployed(runtime, pair, task, arn, queue)


@pytest.fixture
def deployed(runtime: LocalRuntime) -> Deployed:
    return deploy(runtime)
