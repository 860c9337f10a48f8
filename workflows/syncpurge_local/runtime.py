"""The embedded local runtime (docs/design.md §10): the real definition executed on moto.

moto's Step Functions interpreter runs `workflows/syncpurge.asl.json` with the same
placeholders the CDK app fills; each `lambda:invoke` is dispatched in-process to the real
handler in `syncpurge_handlers` (with a Lambda context whose time budget is settable, to
force cursor loops); S3 is moto's; DataSync is `DataSyncStandIn`. Nothing else is faked.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import boto3

from syncpurge.core.run_ids import new_run_id
from syncpurge.workflow.context import ALL_PREFIXES, ASK_THE_BUCKET, NO_TASK
from syncpurge_local.datasync_copy import ACCOUNT
from syncpurge_local.datasync_standin import DataSyncStandIn, InvalidRequest
from syncpurge_local.moto_s3 import s3_paging

REGION = "us-east-1"
# workflows/syncpurge.asl.json, reached through the package's link to it, so that a wheel
# (which copies the linked file into the package) carries the definition too.
DEFINITION = Path(__file__).with_name("syncpurge.asl.json")
STEPS = ("prepare", "plan", "diff", "guard", "purge", "report", "erase")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/syncpurge-local"


def function_arn(step: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:syncpurge-{step}"


def placeholders(definition: str) -> set[str]:
    return set(PLACEHOLDER.findall(definition))


def render(definition: str, substitutions: dict[str, str]) -> str:
    """Fill ${Name} placeholders as the CDK's definitionSubstitutions do ($$ left alone)."""
    missing = placeholders(definition) - set(substitutions)
    if missing:
        raise KeyError(f"no substitution for placeholders: {sorted(missing)}")
    return PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], definition)


def with_timeout(definition: str, seconds: int) -> str:
    """The definition with the deployment's TimeoutSeconds (a number, so no placeholder)."""
    document = json.loads(definition)
    document["TimeoutSeconds"] = seconds
    return json.dumps(document, indent=2)


@dataclass(frozen=True)
class LocalDeployment:
    source_bucket: str
    target_bucket: str
    report_bucket: str
    task_arn: str = ""
    poll_interval_seconds: int = 0
    poll_ceiling_seconds: int = 0
    notification_topic_arn: str = ""
    require_approval: bool = False
    timeout_seconds: int = 691200
    diff_max_concurrency: int = 800
    purge_max_concurrency: int = 10
    mode: str = "datasync"
    # "" : no owner check (moto's buckets all belong to its one default account)
    source_account: str = ""
    target_account: str = ""
    # each run asks the bucket for its Region (the stack's default)
    source_region: str = ASK_THE_BUCKET
    target_region: str = ASK_THE_BUCKET
    report_account: str = ""
    prefixes: tuple[str, ...] = ()
    erase_check_days: int = 90

    def substitutions(self) -> dict[str, str]:
        values = {
            "SourceBucket": self.source_bucket,
            "TargetBucket": self.target_bucket,
            "ReportBucket": self.report_bucket,
            "ReportAccount": self.report_account,
            "Prefixes": ",".join(self.prefixes) or ALL_PREFIXES,
            "DataSyncTaskArn": self.task_arn or NO_TASK,
            "Mode": self.mode,
            "SourceAccount": self.source_account,
            "TargetAccount": self.target_account,
            "SourceRegion": self.source_region,
            "TargetRegion": self.target_region,
            "PollIntervalSeconds": str(self.poll_interval_seconds),
            "PollCeilingSeconds": str(self.poll_ceiling_seconds),
            "NotificationTopicArn": self.notification_topic_arn,
            "RequireApproval": "true" if self.require_approval else "false",
            "DiffMaxConcurrency": str(self.diff_max_concurrency),
            "PurgeMaxConcurrency": str(self.purge_max_concurrency),
            "EraseCheckDays": str(self.erase_check_days),
        }
        values.update({f"{step.capitalize()}FunctionArn": function_arn(step) for step in STEPS})
        return values


@dataclass
class ExecutionResult:
    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None


class LocalLambdaContext:
    """The parts of a Lambda context the handlers and Powertools read."""

    def __init__(self, function_name: str, budget_seconds: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(function_name.removeprefix("syncpurge-"))
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + budget_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalRuntime:
    """`with LocalRuntime() as runtime:` moto for everything, the workflow deployable on it."""

    def __init__(self, *, lambda_budget_seconds: float = 900.0, emit_metrics: bool = False) -> None:
        self.lambda_budget_seconds = lambda_budget_seconds
        # Off by default: the EMF documents would fill the demo's terminal.
        self.emit_metrics = emit_metrics
        self.datasync = DataSyncStandIn(lambda: boto3.client("s3", region_name=REGION), REGION)
        self.invocations: list[tuple[str, dict[str, Any]]] = []
        self._stack = ExitStack()

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> LocalRuntime:
        from moto import mock_aws
        from moto.awslambda.models import LambdaBackend
        from moto.datasync.responses import DataSyncResponse

        self._stack.enter_context(
            _environment(
                {
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": REGION,
                    "POWERTOOLS_METRICS_DISABLED": "false" if self.emit_metrics else "true",
                    "POWERTOOLS_TRACE_DISABLED": "true",
                    "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                }
            )
        )
        self._stack.enter_context(mock.patch.object(LambdaBackend, "invoke", self._invoke_fn()))
        for operation in DataSyncStandIn.OPERATIONS:
            self._stack.enter_context(
                mock.patch.object(
                    DataSyncResponse, operation, self._datasync_fn(operation), create=True
                )
            )
        self._stack.enter_context(
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        )
        # Key-range work items start listings at a KeyMarker alone: page as S3 does.
        self._stack.enter_context(s3_paging())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # ------------------------------------------------------------------ dispatch

    def _invoke_fn(self) -> Any:
        runtime = self

        def invoke(  # noqa: PLR0917 - moto calls LambdaBackend.invoke positionally
            backend: Any,
            function_name: str,
            qualifier: Any,
            body: Any,
            headers: Any,
            response_headers: dict[str, str],
        ) -> bytes:
            name = function_name.rsplit(":", 1)[-1]
            step = name.removeprefix("syncpurge-")
            if step not in STEPS:
                raise KeyError(f"no local handler for Lambda function {function_name!r}")
            event = json.loads(body) if body else {}
            runtime.invocations.append((step, event))
            context = LocalLambdaContext(name, runtime.lambda_budget_seconds)
            try:
                handler = importlib.import_module(f"syncpurge_handlers.{step}").handler
                result = handler(event, context)
            except Exception as err:  # becomes the task's Error/Cause, as Lambda does
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(
                    {
                        "errorType": type(err).__name__,
                        "errorMessage": str(err),
                        "stackTrace": traceback.format_exception(err)[-3:],
                    }
                ).encode()
            return json.dumps(result, default=str).encode()

        return invoke

    def _datasync_fn(self, operation: str) -> Any:
        standin = self.datasync

        def respond(response: Any) -> Any:
            try:
                return standin.answer(operation, response.body)
            except InvalidRequest as err:
                return (
                    400,
                    {},
                    json.dumps({"__type": "InvalidRequestException", "message": str(err)}),
                )

        return respond

    # ------------------------------------------------------------------ use

    def deploy(self, deployment: LocalDeployment, name: str = "syncpurge") -> str:
        definition = render(
            with_timeout(DEFINITION.read_text(), deployment.timeout_seconds),
            deployment.substitutions(),
        )
        client = boto3.client("stepfunctions", region_name=REGION)
        arn: str = client.create_state_machine(name=name, definition=definition, roleArn=ROLE_ARN)[
            "stateMachineArn"
        ]
        return arn

    def start(self, state_machine_arn: str, request: Any, name: str | None = None) -> str:
        client = boto3.client("stepfunctions", region_name=REGION)
        body = request if isinstance(request, str) else json.dumps(request)
        arn: str = client.start_execution(
            stateMachineArn=state_machine_arn,
            name=name or new_run_id(datetime.now(UTC)),
            input=body,
        )["executionArn"]
        return arn

    def wait(self, execution_arn: str, timeout: float = 300.0) -> ExecutionResult:
        client = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout
        while True:
            described = client.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout:.0f}s")
            time.sleep(0.05)
        output = described.get("output")
        return ExecutionResult(
            arn=execution_arn,
            status=described["status"],
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
        )

    def run(
        self, state_machine_arn: str, request: Any, name: str | None = None, timeout: float = 300.0
    ) -> ExecutionResult:
        return self.wait(self.start(state_machine_arn, request, name), timeout)

    def create_task(
        self,
        source_bucket: str,
        target_bucket: str,
        *,
        preserve_deleted_files: str = "REMOVE",
        report_bucket: str | None = None,
        report_subdirectory: str = "datasync-reports",
        source_subdirectory: str = "",
        target_subdirectory: str = "",
        includes: str = "",
        excludes: str = "",
    ) -> str:
        """A DataSync task between two buckets, configured as the CDK app creates it."""
        datasync = boto3.client("datasync", region_name=REGION)
        role = f"arn:aws:iam::{ACCOUNT}:role/datasync-s3"
        source = datasync.create_location_s3(
            S3BucketArn=f"arn:aws:s3:::{source_bucket}",
            Subdirectory=source_subdirectory,
            S3Config={"BucketAccessRoleArn": role},
        )["LocationArn"]
        target = datasync.create_location_s3(
            S3BucketArn=f"arn:aws:s3:::{target_bucket}",
            Subdirectory=target_subdirectory,
            S3Config={"BucketAccessRoleArn": role},
        )["LocationArn"]
        params: dict[str, Any] = {
            "SourceLocationArn": source,
            "DestinationLocationArn": target,
            "Name": "syncpurge-local",
            "Options": {
                "TransferMode": "CHANGED",
                "PreserveDeletedFiles": preserve_deleted_files,
                "VerifyMode": "ONLY_FILES_TRANSFERRED",
            },
        }
        if includes:
            params["Includes"] = [{"FilterType": "SIMPLE_PATTERN", "Value": includes}]
        if excludes:
            params["Excludes"] = [{"FilterType": "SIMPLE_PATTERN", "Value": excludes}]
        if report_bucket:
            params["TaskReportConfig"] = {
                "Destination": {
                    "S3": {
                        "S3BucketArn": f"arn:aws:s3:::{report_bucket}",
                        "Subdirectory": report_subdirectory,
                        "BucketAccessRoleArn": role,
                    }
                },
                "OutputType": "STANDARD",
                "ReportLevel": "SUCCESSES_AND_ERRORS",
                "ObjectVersionIds": "INCLUDE",
            }
        arn: str = datasync.create_task(**params)["TaskArn"]
        return arn


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set process environment for the runtime's lifetime, restoring it afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
