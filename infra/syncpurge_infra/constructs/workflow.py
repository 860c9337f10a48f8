"""The state machine, deployed from workflows/syncpurge.asl.json with substitutions."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from syncpurge_infra.config import (
    WORKSPACE_PREFIX,
    DeploymentConfig,
)
from syncpurge_infra.constructs.common import DEFINITION, STEPS, allow
from syncpurge_infra.constructs.functions import Functions, log_retention
from syncpurge_infra.constructs.nag import excuse_wildcards


class Workflow(Construct):
    """The state machine, deployed from workflows/syncpurge.asl.json with substitutions."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        functions: Functions,
        report_bucket: s3.IBucket,
        task_arn: str | None,
        state_machine_arn: str,
        topic_arn: str = "",
    ) -> None:
        super().__init__(scope, id)
        self.substitutions = substitutions(config, functions, report_bucket, task_arn, topic_arn)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=log_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=config.state_machine_name,
            definition_body=sfn.DefinitionBody.from_string(
                with_timeout(DEFINITION.read_text(), config.timeout_seconds)
            ),
            definition_substitutions=self.substitutions,
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        self._grant(
            role,
            config=config,
            functions=functions,
            report_bucket=report_bucket,
            task_arn=task_arn,
            state_machine_arn=state_machine_arn,
        )

    @staticmethod
    def _grant(
        role: iam.Role,
        *,
        config: DeploymentConfig,
        functions: Functions,
        report_bucket: s3.IBucket,
        task_arn: str | None,
        state_machine_arn: str,
    ) -> None:
        """The machine's own calls: its six steps (not the event path's consumer), the
        task, the ItemReaders' workspace files, its Distributed Map children."""
        stack = Stack.of(role)
        for step in STEPS:
            arn = functions.functions[step].function_arn
            allow(role, ["lambda:InvokeFunction"], [arn, f"{arn}:*"], why=WHY_VERSIONS)
        if task_arn:
            allow(role, ["datasync:StartTaskExecution"], [task_arn])
            allow(
                role,
                ["datasync:DescribeTaskExecution"],
                [f"{task_arn}/execution/*"],
                why="The task's executions are named when they start.",
            )
        allow(
            role,
            ["s3:GetObject"],
            [report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}*")],
            why="The Distributed Maps' ItemReaders read item files of the run's workspace.",
        )
        # Distributed Map runs its items as child executions of this state machine.
        allow(role, ["states:StartExecution"], [state_machine_arn])
        allow(
            role,
            ["states:DescribeExecution", "states:StopExecution"],
            [
                f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:"
                f"{config.state_machine_name}/*"
            ],
            why="This machine's Distributed Map child executions are named at run time.",
        )
        excuse_wildcards(role, WHY_DELIVERY, resources=["*"])


# What Step Functions adds to the machine's role for its logging and tracing.
WHY_DELIVERY = (
    "CloudWatch Logs delivery (logs:*LogDelivery*, DescribeLogGroups, resource policies) "
    "and X-Ray take no resource-level permissions ('*')."
)
WHY_VERSIONS = "Step Functions may invoke a step's function by version or alias (:*)."


def with_timeout(definition: str, seconds: int) -> str:
    """The definition with the deployment's TimeoutSeconds: a number in the ASL, so it is
    set here rather than through a ${Placeholder} (which would leave the file not JSON)."""
    document = json.loads(definition)
    document["TimeoutSeconds"] = seconds
    return json.dumps(document, indent=2)


# Settings left unset. Not "": cfn-lint reads an empty DefinitionSubstitutions value as a
# missing one (E1029). A Region: each run asks the bucket. The words are
# syncpurge.workflow.context's (RunConfig reads them back).
ASK_THE_BUCKET = "auto"
NO_TASK = "none"
ALL_PREFIXES = "*"


def substitutions(
    config: DeploymentConfig,
    functions: Functions,
    report_bucket: s3.IBucket,
    task_arn: str | None,
    topic_arn: str = "",
) -> dict[str, str]:
    """Exactly the ${Placeholders} of the definition (tests hold them equal)."""
    values = {
        "SourceBucket": config.source_bucket,
        "TargetBucket": config.target_bucket,
        "ReportBucket": report_bucket.bucket_name,
        "ReportAccount": Stack.of(report_bucket).account,
        "Prefixes": ",".join(config.prefixes) or ALL_PREFIXES,
        "DataSyncTaskArn": task_arn or NO_TASK,
        "Mode": config.mode,
        "SourceAccount": config.source_account or Stack.of(report_bucket).account,
        "TargetAccount": config.target_account or Stack.of(report_bucket).account,
        "SourceRegion": config.source_region or ASK_THE_BUCKET,
        "TargetRegion": config.target_region or ASK_THE_BUCKET,
        "PollIntervalSeconds": str(config.poll_interval_seconds),
        "PollCeilingSeconds": str(config.poll_ceiling_seconds),
        "NotificationTopicArn": topic_arn,
        "RequireApproval": "true" if config.require_approval else "false",
        "DiffMaxConcurrency": str(config.diff_max_concurrency),
        "PurgeMaxConcurrency": str(config.purge_max_concurrency),
        "EraseCheckDays": str(config.erase_check_days),
    }
    values.update(
        {
            f"{step.capitalize()}FunctionArn": functions.functions[step].function_arn
            for step in STEPS
        }
    )
    return values
