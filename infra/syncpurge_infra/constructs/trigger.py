"""The EventBridge Scheduler schedule that starts the machine."""

from __future__ import annotations

import json

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from syncpurge_infra.config import (
    DeploymentConfig,
)
from syncpurge_infra.constructs.common import allow


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
