"""A CloudWatch dashboard: each run's figures (the Report step's EMF metrics) beside the
state machine's executions started, failed and timed out."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from syncpurge_infra.config import DeploymentConfig

METRICS_NAMESPACE = "syncpurge"  # syncpurge_handlers.observability.SERVICE
RUN_ENTRIES = ("RunPlanned", "RunPurged", "RunRetained", "RunSkipped", "RunFailed")
RUN_STATUSES = ("RunsSucceeded", "RunsDryRun", "RunsGuardTripped", "RunsFailed")


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        state_machine: sfn.StateMachine,
    ) -> None:
        super().__init__(scope, id)
        period = Duration.days(1)

        def run_metric(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": METRICS_NAMESPACE},
                statistic="Sum",
                period=period,
            )

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{config.stack_name}-runs"
        )
        executions = [
            state_machine.metric_started(period=period, statistic="Sum"),
            state_machine.metric_failed(period=period, statistic="Sum"),
            state_machine.metric_timed_out(period=period, statistic="Sum"),
        ]
        graphs = [
            ("Entries per run", [run_metric(name) for name in RUN_ENTRIES]),
            ("Bytes reclaimed", [run_metric("RunBytesReclaimed")]),
            ("Runs by outcome", [run_metric(name) for name in RUN_STATUSES]),
            ("Executions", executions),
        ]
        widgets = [cloudwatch.GraphWidget(title=t, left=m, width=12) for t, m in graphs]
        for row in (widgets[:2], widgets[2:]):  # two graphs a row
            self.dashboard.add_widgets(*row)
