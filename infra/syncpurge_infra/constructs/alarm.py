"""The alarms: on failed or timed-out executions, and on an erased key that came back."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from syncpurge_infra.config import METRICS_NAMESPACE, REAPPEARED_METRIC


class FailureAlarm(Construct):
    """Alarms on failed or timed-out executions, to the notification topic."""

    def __init__(
        self, scope: Construct, id: str, *, state_machine: sfn.StateMachine, topic: sns.ITopic
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
        self.alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))


class ResurrectionAlarm(Construct):
    """Alarms when a run's follow-up of the erasure receipts finds an erased key back
    (the Erase function's metric ErasedKeysReappeared), to the notification topic."""

    def __init__(self, scope: Construct, id: str, *, topic: sns.ITopic) -> None:
        super().__init__(scope, id)
        reappeared = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=REAPPEARED_METRIC,
            dimensions_map={"service": METRICS_NAMESPACE},
            period=Duration.minutes(5),
            statistic="Sum",
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            metric=reappeared,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="An erased key came back (a restore from backup, a late replica, "
            "a re-upload): the run's notification names it; erase it again.",
        )
        self.alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
