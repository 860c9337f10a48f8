"""The EventBridge Scheduler schedule that starts the machine (aws-cdk-lib's L2)."""

from __future__ import annotations

from aws_cdk import TimeZone
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from syncpurge_infra.config import DeploymentConfig


class Trigger(Construct):
    """Starts the machine on `schedule` with the scheduled request (guard, dry run)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        state_machine: sfn.IStateMachine,
    ) -> None:
        super().__init__(scope, id)
        self.schedule = scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(
                config.schedule, TimeZone.of(config.timezone)
            ),
            target=targets.StepFunctionsStartExecution(
                state_machine,
                input=scheduler.ScheduleTargetInput.from_object(config.scheduled_request),
            ),
            description="syncpurge: sync and purge on a schedule",
        )
