"""The syncpurge stack: composes the constructs and states its outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Stack
from constructs import Construct

from syncpurge_infra.config import DATASYNC_REPORT_SUBDIRECTORY, REPORTS_PREFIX, DeploymentConfig
from syncpurge_infra.constructs import (
    Dashboard,
    DataSyncTask,
    EventPath,
    FailureAlarm,
    Functions,
    Notifications,
    ReceiptKey,
    ReportBucket,
    ResurrectionAlarm,
    Trigger,
    Workflow,
    grant_step_permissions,
)
from syncpurge_infra.constructs.bucket_grants import bucket_policy, policy_json
from syncpurge_infra.constructs.report_layout import ReportLayout


class SyncPurgeStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: DeploymentConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.config = config
        reports = ReportBucket(self, "Reports", config=config)
        created_task_arn = None
        if config.creates_task:
            created_task_arn = DataSyncTask(
                self, "DataSync", config=config, report_bucket=reports.bucket
            ).task_arn
        task_arn = config.task_arn or created_task_arn
        layout = ReportLayout.of(config, reports.bucket, created_task_arn)
        # Named, not referenced: the Prepare role lists this machine's executions, and the
        # machine invokes Prepare; an ARN string breaks that cycle.
        machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=config.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        functions = Functions(self, "Functions", config=config)
        notifications = Notifications(self, "Notifications", config=config)
        notifications.grant_publish(functions.roles["report"])
        notifications.grant_publish(functions.roles["erase"])
        if config.events == "on":
            event_path = EventPath(
                self,
                "EventPath",
                config=config,
                functions=functions,
                layout=layout,
                task_arn=task_arn,
                notifications=notifications,
            )
        grant_step_permissions(
            functions,
            config=config,
            layout=layout,
            task_arn=task_arn,
            state_machine_arn=machine_arn,
        )
        receipts = ReceiptKey(
            self, "ReceiptKey", signer=functions.functions["erase"], role=functions.roles["erase"]
        )
        self.workflow = Workflow(
            self,
            "Workflow",
            config=config,
            functions=functions,
            report_bucket=reports.bucket,
            task_arn=task_arn,
            state_machine_arn=machine_arn,
            topic_arn=notifications.topic.topic_arn,
        )
        machine = self.workflow.state_machine
        if config.schedule != "off":
            Trigger(self, "Trigger", config=config, state_machine=machine)
        FailureAlarm(self, "Failures", state_machine=machine, topic=notifications.topic)
        ResurrectionAlarm(self, "Resurrections", topic=notifications.topic)
        Dashboard(self, "Dashboard", config=config, state_machine=machine)

        CfnOutput(self, "StateMachineArn", value=machine.state_machine_arn)
        CfnOutput(
            self,
            "ReceiptKeyArn",
            value=receipts.key.key_arn,
            description="The KMS key that signs erasure receipts: `syncpurge receipt verify "
            "receipt.json --key <this>`",
        )
        CfnOutput(
            self,
            "StateMachineConsoleUrl",
            value=f"https://{self.region}.console.aws.amazon.com/states/home?region="
            f"{self.region}#/statemachines/view/{machine.state_machine_arn}",
        )
        subdirectory = DATASYNC_REPORT_SUBDIRECTORY if config.creates_task else ""
        CfnOutput(
            self,
            "ReportLocation",
            value=f"s3://{reports.bucket.bucket_name}/{subdirectory}{REPORTS_PREFIX}",
            description="Reports of every run: <this>/<task-id>/<run-id>/ (with an existing "
            "task: its TaskReportConfig destination, if it has one)",
        )
        if config.events == "on":
            # What `syncpurge events status|resume --stack` reads.
            CfnOutput(self, "EventSourceBucket", value=config.source_bucket)
            CfnOutput(self, "EventBrake", value=event_path.brake_uri)
        for side in ("source", "target"):
            document = bucket_policy(self, side, config, dict(functions.roles))
            CfnOutput(
                self,
                f"{side.capitalize()}BucketPolicy",
                value=policy_json(self, document),
                description=f"When the {side} bucket is in another account: the statements "
                "its bucket policy adds, for this stack's roles (`syncpurge bucket-policy "
                f"--stack <stack> --side {side}` prints them)",
            )
