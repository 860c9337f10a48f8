"""Constructs with one job each: report bucket, DataSync task, functions, state machine,
schedule, alarm. IAM is granted statement by statement, as narrow as each job."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_datasync as datasync
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct

from syncpurge_infra.config import (
    DATASYNC_REPORT_SUBDIRECTORY,
    FUNCTION_SIZING,
    LAYER_PYTHON,
    POWERTOOLS_LAYER_ACCOUNT,
    PYTHON_RUNTIME,
    REPORTS_PREFIX,
    WORKSPACE_PREFIX,
    DeploymentConfig,
)

REPO = Path(__file__).resolve().parents[2]
DEFINITION = REPO / "workflows" / "syncpurge.asl.json"
LAMBDA_CODE = REPO / "lambdas"
STEPS = tuple(FUNCTION_SIZING)


def s3_arn(scope: Construct, bucket: str) -> str:
    return f"arn:{Stack.of(scope).partition}:s3:::{bucket}"


def allow(role: iam.Role, actions: list[str], resources: list[str]) -> None:
    """One Allow statement on `role`: these actions on exactly these resources."""
    role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))


class ReportBucket(Construct):
    """Where reports and run workspaces go: the configured bucket, or one made here."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        if config.report_bucket:
            self.bucket = s3.Bucket.from_bucket_name(self, "Imported", config.report_bucket)
            return
        created = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-run-workspaces",
                    prefix=WORKSPACE_PREFIX,
                    expiration=Duration.days(config.workspace_retention_days),
                )
            ],
        )
        NagSuppressions.add_resource_suppressions(
            created,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "Holds only syncpurge's own reports and run workspaces, written "
                    "by its roles; every purge is itemised in the reports themselves.",
                }
            ],
        )
        self.bucket = created


class DataSyncTask(Construct):
    """An Enhanced-mode S3→S3 task: CHANGED, PreserveDeletedFiles=REMOVE, a versioned report."""

    def __init__(
        self, scope: Construct, id: str, *, config: DeploymentConfig, report_bucket: s3.IBucket
    ) -> None:
        super().__init__(scope, id)
        source = s3_arn(self, config.source_bucket)
        target = s3_arn(self, config.target_bucket)
        principal = iam.ServicePrincipal(
            "datasync.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
        )
        # The source role reads, and nothing else: no write, no delete on the source, ever.
        source_role = iam.Role(self, "SourceAccess", assumed_by=principal)
        allow(
            source_role,
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [source],
        )
        allow(
            source_role,
            [
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:GetObjectVersion",
                "s3:GetObjectVersionTagging",
            ],
            [f"{source}/*"],
        )
        target_role = iam.Role(self, "TargetAccess", assumed_by=principal)
        allow(
            target_role,
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [target],
        )
        allow(
            target_role,
            [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
                "s3:PutObjectTagging",
            ],
            [f"{target}/*"],
        )
        report_role = iam.Role(self, "ReportAccess", assumed_by=principal)
        allow(
            report_role,
            ["s3:PutObject"],
            [report_bucket.arn_for_objects(f"{DATASYNC_REPORT_SUBDIRECTORY}*")],
        )
        for role, what in (
            (source_role, "source objects"),
            (target_role, "target objects"),
            (report_role, "its report folder"),
        ):
            NagSuppressions.add_resource_suppressions(
                role,
                [
                    {
                        "id": "AwsSolutions-IAM5",
                        "reason": f"DataSync transfers any key: object actions cover {what} (/*).",
                    }
                ],
                apply_to_children=True,
            )

        source_location = datasync.CfnLocationS3(
            self,
            "Source",
            s3_bucket_arn=source,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(
                bucket_access_role_arn=source_role.role_arn
            ),
        )
        target_location = datasync.CfnLocationS3(
            self,
            "Target",
            s3_bucket_arn=target,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(
                bucket_access_role_arn=target_role.role_arn
            ),
        )
        task = datasync.CfnTask(
            self,
            "Task",
            name=f"{config.stack_name}-sync",
            source_location_arn=source_location.attr_location_arn,
            destination_location_arn=target_location.attr_location_arn,
            task_mode="ENHANCED",
            options=datasync.CfnTask.OptionsProperty(
                transfer_mode="CHANGED",
                preserve_deleted_files="REMOVE",
                verify_mode="ONLY_FILES_TRANSFERRED",
                object_tags="PRESERVE",
            ),
            task_report_config=datasync.CfnTask.TaskReportConfigProperty(
                destination=datasync.CfnTask.DestinationProperty(
                    s3=datasync.CfnTask.S3Property(
                        bucket_access_role_arn=report_role.role_arn,
                        s3_bucket_arn=report_bucket.bucket_arn,
                        subdirectory=DATASYNC_REPORT_SUBDIRECTORY.rstrip("/"),
                    )
                ),
                output_type="STANDARD",
                report_level="SUCCESSES_AND_ERRORS",
                object_version_ids="INCLUDE",
            ),
        )
        self.task_arn = task.attr_task_arn


class Functions(Construct):
    """One Lambda per handler, each with its own role and log group."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{LAYER_PYTHON}-arm64:{config.powertools_layer_version}",
        )
        code = lambda_.Code.from_asset(
            str(LAMBDA_CODE), exclude=["**/__pycache__", "*.egg-info", "**/*.pyc"]
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for step, (memory, timeout) in FUNCTION_SIZING.items():
            log_group = logs.LogGroup(
                self,
                f"{step.capitalize()}Logs",
                retention=_retention(config.log_retention_days),
                removal_policy=RemovalPolicy.DESTROY,
            )
            role = iam.Role(
                self,
                f"{step.capitalize()}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            )
            allow(
                role,
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [log_group.log_group_arn, f"{log_group.log_group_arn}:*"],
            )
            function = lambda_.Function(
                self,
                step.capitalize(),
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.ARM_64,
                handler=f"syncpurge_handlers.{step}.handler",
                code=code,
                layers=[layer],
                memory_size=memory,
                timeout=Duration.seconds(timeout),
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE,
                environment={
                    "POWERTOOLS_SERVICE_NAME": "syncpurge",
                    "POWERTOOLS_METRICS_NAMESPACE": "syncpurge",
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
                description=f"syncpurge {step} step",
            )
            NagSuppressions.add_resource_suppressions(
                function,
                [
                    {
                        "id": "AwsSolutions-L1",
                        "reason": f"Pinned to {PYTHON_RUNTIME}: the Powertools public layer "
                        f"is built per Python version ({LAYER_PYTHON}); runtime and layer "
                        "move together.",
                    }
                ],
            )
            self.functions[step] = function
            self.roles[step] = role


RETENTION_DAYS = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS, 7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS, 150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}  # fmt: skip


def _retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch Logs retention that keeps at least `days`."""
    return next(r for d, r in sorted(RETENTION_DAYS.items()) if d >= days)


def grant_step_permissions(
    functions: Functions,
    *,
    config: DeploymentConfig,
    report_bucket: s3.IBucket,
    task_arn: str | None,
    state_machine_arn: str,
) -> None:
    """Each step's S3, DataSync and Step Functions permissions, nothing more."""
    stack = Stack.of(functions)
    source = s3_arn(functions, config.source_bucket)
    target = s3_arn(functions, config.target_bucket)
    workspace = report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}*")

    def allow_step(step: str, actions: list[str], resources: list[str]) -> None:
        functions.roles[step].add_to_policy(
            iam.PolicyStatement(actions=actions, resources=resources)
        )

    # Prepare: preflight and the DataSync task's facts.
    allow_step(
        "prepare",
        ["s3:ListBucket", "s3:GetBucketVersioning", "s3:GetEncryptionConfiguration"],
        [source, target],
    )
    allow_step(
        "prepare", ["s3:GetBucketObjectLockConfiguration", "s3:GetLifecycleConfiguration"], [target]
    )
    allow_step("prepare", ["states:ListExecutions"], [state_machine_arn])
    if task_arn:
        allow_step("prepare", ["datasync:DescribeTask"], [task_arn])
        allow_step(
            "prepare",
            ["datasync:DescribeLocationS3"],
            [f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:location/*"],
        )
    # Plan and Diff: list both buckets' versions (read-only); write the workspace.
    for step in ("plan", "diff"):
        allow_step(step, ["s3:ListBucketVersions"], [source, target])
        allow_step(step, ["s3:PutObject"], [workspace])
    # Guard and Report: read the workspace.
    for step in ("guard", "report"):
        allow_step(step, ["s3:ListBucket"], [report_bucket.bucket_arn])
        allow_step(step, ["s3:GetObject"], [workspace])
    allow_step("guard", ["s3:PutObject"], [workspace])
    allow_step("report", ["s3:PutObject"], [report_bucket.arn_for_objects(f"*{REPORTS_PREFIX}*")])
    # Purge: delete target versions only; re-list the source (verify before destroy).
    allow_step("purge", ["s3:GetObject", "s3:PutObject"], [workspace])
    allow_step("purge", ["s3:DeleteObjectVersion"], [f"{target}/*"])
    if config.bypass_governance:
        allow_step("purge", ["s3:BypassGovernanceRetention"], [f"{target}/*"])
    allow_step("purge", ["s3:ListBucketVersions"], [source])
    for step in STEPS:
        NagSuppressions.add_resource_suppressions(
            functions.roles[step],
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Object keys are only known at run time: object actions are "
                    "scoped to the run workspace, the report folder, or (purge) the "
                    "target's versions; "
                    "the task's DataSync locations are read by id; log streams are created "
                    "in the function's own log group; X-Ray takes no resource.",
                }
            ],
            apply_to_children=True,
        )


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
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.substitutions = substitutions(config, functions, report_bucket, task_arn)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=_retention(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"))
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=config.state_machine_name,
            definition_body=sfn.DefinitionBody.from_string(DEFINITION.read_text()),
            definition_substitutions=self.substitutions,
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        for function in functions.functions.values():
            allow(
                role,
                ["lambda:InvokeFunction"],
                [function.function_arn, f"{function.function_arn}:*"],
            )
        if task_arn:
            allow(role, ["datasync:StartTaskExecution"], [task_arn])
            allow(role, ["datasync:DescribeTaskExecution"], [f"{task_arn}/execution/*"])
        allow(role, ["s3:GetObject"], [report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}*")])
        # Distributed Map runs its items as child executions of this state machine.
        allow(role, ["states:StartExecution"], [state_machine_arn])
        allow(
            role,
            ["states:DescribeExecution", "states:StopExecution"],
            [
                f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:"
                f"{config.state_machine_name}/*"
            ],
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Lambda versions (:*), DataSync executions of the one task, the run "
                    "workspace's objects, this machine's own Distributed Map child "
                    "executions, and CloudWatch Logs delivery / X-Ray (no resource-level "
                    "permissions) are only nameable with a wildcard.",
                }
            ],
            apply_to_children=True,
        )


def substitutions(
    config: DeploymentConfig, functions: Functions, report_bucket: s3.IBucket, task_arn: str | None
) -> dict[str, str]:
    """Exactly the ${Placeholders} of the definition (tests hold them equal)."""
    values = {
        "SourceBucket": config.source_bucket,
        "TargetBucket": config.target_bucket,
        "ReportBucket": report_bucket.bucket_name,
        "DataSyncTaskArn": task_arn or "",
        "PollIntervalSeconds": str(config.poll_interval_seconds),
    }
    values.update(
        {
            f"{step.capitalize()}FunctionArn": functions.functions[step].function_arn
            for step in STEPS
        }
    )
    return values


class Trigger(Construct):
    """An EventBridge Scheduler schedule that starts the machine with the default request."""

    def __init__(
        self, scope: Construct, id: str, *, config: DeploymentConfig, state_machine_arn: str
    ) -> None:
        super().__init__(scope, id)
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"))
        allow(role, ["states:StartExecution"], [state_machine_arn])
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            schedule_expression=config.schedule,
            schedule_expression_timezone=config.timezone,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=state_machine_arn,
                role_arn=role.role_arn,
                input=json.dumps(config.scheduled_request),
            ),
            description="syncpurge: sync and purge on a schedule",
        )


class FailureAlarm(Construct):
    """Alarms on failed or timed-out executions; emails when alarmEmail is set."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        state_machine: sfn.StateMachine,
    ) -> None:
        super().__init__(scope, id)
        failed = state_machine.metric_failed(period=Duration.minutes(5), statistic="Sum")
        timed_out = state_machine.metric_timed_out(period=Duration.minutes(5), statistic="Sum")
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            metric=cloudwatch.MathExpression(
                expression="failed + timedOut",
                using_metrics={"failed": failed, "timedOut": timed_out},
                period=Duration.minutes(5),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="A syncpurge execution failed or timed out: see its report.",
        )
        if config.alarm_email:
            key = kms.Key(
                self, "TopicKey", enable_key_rotation=True, description="syncpurge alarm topic"
            )
            key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
            topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
            topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
            self.alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
