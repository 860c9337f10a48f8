"""Data access beyond S3: the DataSync task, the state machine's own executions, and the
notification topic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from syncpurge.data.clients import make_client
from syncpurge.errors import PreflightRefused

if TYPE_CHECKING:
    from mypy_boto3_datasync import DataSyncClient
    from mypy_boto3_stepfunctions import SFNClient


def caller_account(*, region: str | None = None, profile: str | None = None) -> str:
    """The account of the identity the calls are made as (STS GetCallerIdentity)."""
    return str(make_client("sts", region=region, profile=profile).get_caller_identity()["Account"])


@dataclass(frozen=True, slots=True)
class S3Location:
    bucket: str
    subdirectory: str  # "" for the bucket root, else "some/dir/"


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What a run needs to know of the DataSync task."""

    task_arn: str
    task_id: str
    source: S3Location
    target: S3Location
    preserve_deleted_files: str  # PRESERVE | REMOVE
    report_bucket: str | None  # TaskReportConfig S3 destination, if any
    report_subdirectory: str
    includes: tuple[dict[str, str], ...] = ()
    excludes: tuple[dict[str, str], ...] = ()


def arn_home(arn: str) -> tuple[str, str]:
    """(Region, account) of an ARN: 'arn:aws:datasync:eu-west-1:111111111111:task/t' ->
    ('eu-west-1', '111111111111'); ('', '') for a string that is no such ARN."""
    parts = arn.split(":", 5)
    return (parts[3], parts[4]) if len(parts) == 6 and parts[0] == "arn" else ("", "")


def bucket_of(arn: str) -> str:
    """'arn:aws:s3:::my-bucket' -> 'my-bucket'."""
    return arn.rsplit(":", 1)[-1].split("/", 1)[0]


def normalise_subdirectory(value: str | None) -> str:
    stripped = (value or "").strip("/")
    return f"{stripped}/" if stripped else ""


def _filter(rule: Any) -> dict[str, str]:
    return {"FilterType": str(rule.get("FilterType", "")), "Value": str(rule.get("Value", ""))}


class DataSyncGateway:
    def __init__(self, client: DataSyncClient) -> None:
        self.client = client

    def task_facts(self, task_arn: str) -> TaskFacts:
        try:
            task = self.client.describe_task(TaskArn=task_arn)
        except ClientError as err:
            raise PreflightRefused(f"DataSync task {task_arn!r} can't be read: {err}") from err
        options = task.get("Options") or {}
        report_config: dict[str, Any] = dict(task.get("TaskReportConfig") or {})
        report: dict[str, Any] = report_config.get("Destination", {}).get("S3") or {}
        return TaskFacts(
            task_arn=task_arn,
            task_id=task_arn.rsplit("/", 1)[-1],
            source=self._location(task["SourceLocationArn"]),
            target=self._location(task["DestinationLocationArn"]),
            preserve_deleted_files=str(options.get("PreserveDeletedFiles") or "PRESERVE"),
            report_bucket=bucket_of(report["S3BucketArn"]) if report.get("S3BucketArn") else None,
            report_subdirectory=normalise_subdirectory(report.get("Subdirectory")),
            includes=tuple(_filter(f) for f in task.get("Includes") or ()),
            excludes=tuple(_filter(f) for f in task.get("Excludes") or ()),
        )

    def _location(self, location_arn: str) -> S3Location:
        try:
            location = self.client.describe_location_s3(LocationArn=location_arn)
        except ClientError as err:
            raise PreflightRefused(
                f"DataSync location {location_arn!r} is not an S3 location: {err}"
            ) from err
        uri = location.get("LocationUri", "")  # s3://bucket/sub/dir/
        rest = uri.removeprefix("s3://")
        bucket, _, subdirectory = rest.partition("/")
        return S3Location(bucket=bucket, subdirectory=normalise_subdirectory(subdirectory))


class ExecutionsGateway:
    def __init__(self, client: SFNClient) -> None:
        self.client = client

    def running_executions(self, state_machine_arn: str) -> list[str]:
        paginator = self.client.get_paginator("list_executions")
        running: list[str] = []
        for page in paginator.paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING"):
            running.extend(e["executionArn"] for e in page["executions"])
        return running

    def definition(self, state_machine_arn: str) -> dict[str, Any]:
        """The state machine's definition (Amazon States Language), parsed."""
        described = self.client.describe_state_machine(stateMachineArn=state_machine_arn)
        return json.loads(described.get("definition") or "{}")  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class ExecutionEvent:
    """One step of an execution as a person would follow it."""

    event_id: int
    kind: str  # the history event type, e.g. TaskStateEntered, MapRunStarted
    state: str  # the state's name, "" for events without one


class ExecutionFollower:
    """Reads an execution's progress: its new history events, and how it ended."""

    def __init__(self, client: SFNClient, execution_arn: str) -> None:
        self.client = client
        self.execution_arn = execution_arn
        self._seen = 0
        self._map_counts_available = True

    def new_events(self) -> list[ExecutionEvent]:
        events: list[ExecutionEvent] = []
        paginator = self.client.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=self.execution_arn):
            for event in page["events"]:
                if event["id"] <= self._seen:
                    continue
                entered = event.get("stateEnteredEventDetails")
                name = entered["name"] if entered else ""
                events.append(ExecutionEvent(event["id"], event["type"], name))
        if events:
            self._seen = events[-1].event_id
        return events

    def describe(self) -> dict[str, Any]:
        return dict(self.client.describe_execution(executionArn=self.execution_arn))

    def map_item_counts(self) -> list[tuple[str, int, int]]:
        """(map run, items done, items in all) of the execution's Distributed Map runs."""
        counts: list[tuple[str, int, int]] = []
        if not self._map_counts_available:
            return counts
        try:
            runs = self.client.list_map_runs(executionArn=self.execution_arn)["mapRuns"]
            for run in runs:
                items = self.client.describe_map_run(mapRunArn=run["mapRunArn"])["itemCounts"]
                done = items["succeeded"] + items["failed"] + items["aborted"]
                counts.append(
                    (run["mapRunArn"].rsplit("/", 1)[-1].split(":")[0], done, items["total"])
                )
        except Exception:
            # Item counts decorate the progress line; the execution's status still tells the
            # outcome, so a service (or emulator) that can't report them is not asked again.
            self._map_counts_available = False
            return []
        return counts


class NotificationGateway:
    """The SNS topic every run's outcome is published to."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def publish(self, topic_arn: str, subject: str, message: str) -> None:
        # SNS subjects: at most 100 printable ASCII characters, no line breaks.
        clean = "".join(c if " " <= c <= "~" else "?" for c in subject)[:100]
        self.client.publish(TopicArn=topic_arn, Subject=clean, Message=message)


class QueueGateway:
    """The event path's queue: a message waiting out its hold goes back, invisible."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def return_after(self, queue_url: str, receipt_handle: str, seconds: int) -> None:
        self.client.change_message_visibility(
            QueueUrl=queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )


class StackOutputs:
    """A deployed CloudFormation stack's outputs (where its reports are)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, stack: str, name: str) -> str:
        try:
            stacks = self.client.describe_stacks(StackName=stack)["Stacks"]
        except ClientError as err:
            raise PreflightRefused(f"--stack: {err}") from None
        for output in stacks[0].get("Outputs", []) if stacks else []:
            if output["OutputKey"] == name:
                return str(output["OutputValue"])
        raise PreflightRefused(f"--stack: stack {stack!r} has no output {name!r}")


def caller_arn(client: Any) -> str:
    """The ARN of the identity the calls are made as (an STS client's GetCallerIdentity)."""
    return str(client.get_caller_identity()["Arn"])
