"""One Lambda per state, each with its own role and log group."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from syncpurge_infra.config import (
    FUNCTION_SIZING,
    LAYER_PYTHON,
    POWERTOOLS_LAYER_ACCOUNT,
    PYTHON_RUNTIME,
    DeploymentConfig,
)
from syncpurge_infra.constructs.common import LAMBDA_CODE, allow
from syncpurge_infra.constructs.nag import excuse_wildcards

# What Lambda's active tracing adds to every function's role.
WHY_XRAY = "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ('*')."


class Functions(Construct):
    """One Lambda per handler, each with its own role and log group."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "Powertools",
            f"arn:{stack.partition}:lambda:{stack.region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{LAYER_PYTHON}-arm64:{config.powertools_layer_version}",
        )
        self._code = lambda_.Code.from_asset(
            str(LAMBDA_CODE), exclude=["**/__pycache__", "*.egg-info", "**/*.pyc"]
        )
        self._config = config
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for step in FUNCTION_SIZING:
            self.add(step, *config.sizing(step))

    def add(self, step: str, memory: int, timeout: int) -> lambda_.Function:
        """The function of handler `syncpurge_handlers.<step>`, with its own role and log
        group; the state machine's steps and the event path's consumer alike."""
        log_group = logs.LogGroup(
            self,
            f"{step.capitalize()}Logs",
            retention=log_retention(self._config.log_retention_days),
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
            why="Log streams are named by Lambda at run time, in the function's own log group.",
        )
        function = lambda_.Function(
            self,
            step.capitalize(),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"syncpurge_handlers.{step}.handler",
            code=self._code,
            layers=[self._layer],
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
        excuse_wildcards(role, WHY_XRAY, resources=["*"])
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
        return function


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


def log_retention(days: int) -> logs.RetentionDays:
    """The shortest CloudWatch Logs retention that keeps at least `days`."""
    return next(r for d, r in sorted(RETENTION_DAYS.items()) if d >= days)
