"""The event path (DESIGN §13, setting events=on): the source's permanent-delete events,
a rule, a queue where they wait out their hold, and the consumer that decides each key."""

from __future__ import annotations

import math

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from syncpurge_infra.config import EVENTS_SIZING, REPORTS_PREFIX, WORKSPACE_PREFIX, DeploymentConfig
from syncpurge_infra.constructs.common import allow
from syncpurge_infra.constructs.functions import Functions

# SQS's longest visibility timeout: a hold longer than this takes a round trip each.
MAX_VISIBILITY_SECONDS = 12 * 3600
# Deliveries of a message that failed for another reason before it goes to the DLQ.
RETRIES = 5
CONFIG_VARIABLE = "SYNCPURGE_EVENT_PATH"  # syncpurge_handlers.events reads it


class EventPath(Construct):
    """S3 `Object Deleted` (Permanently Deleted) events of the source -> EventBridge rule ->
    encrypted queue (with a dead-letter queue) -> the consumer, one delivery at a time."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: DeploymentConfig,
        functions: Functions,
        report_bucket: s3.IBucket,
        task_arn: str | None,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        hold_trips = math.ceil(config.event_hold_minutes * 60 / MAX_VISIBILITY_SECONDS)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Lambda's guidance for an SQS event source: 6 x the function's timeout.
            visibility_timeout=Duration.seconds(6 * EVENTS_SIZING[1]),
            retention_period=Duration.days(14),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=RETRIES + hold_trips
            ),
        )
        detail: dict[str, object] = {
            "bucket": {"name": [config.source_bucket]},
            "deletion-type": ["Permanently Deleted"],
        }
        if config.prefixes and config.task_arn is None:
            # Keys are relative to the bucket here (no task Subdirectory to prepend).
            detail["object"] = {"key": [{"prefix": p} for p in config.prefixes]}
        self.rule = events.Rule(
            self,
            "SourceDeletes",
            description=f"syncpurge event path: permanent deletes in s3://{config.source_bucket}",
            event_pattern=events.EventPattern(
                source=["aws.s3"], detail_type=["Object Deleted"], detail=detail
            ),
        )
        self.rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=dead_letters))
        function = functions.add("events", *EVENTS_SIZING)
        # One delivery at a time: the brake's count and the hour's report have one writer.
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.reserved_concurrent_executions = 1
        function.add_environment(
            CONFIG_VARIABLE,
            stack.to_json_string(
                {
                    "sourceBucket": config.source_bucket,
                    "targetBucket": config.target_bucket,
                    "reportBucket": report_bucket.bucket_name,
                    "taskArn": task_arn or "",
                    "mode": config.mode,
                    "prefixes": config.prefixes,
                    "sourceAccount": config.source_account or stack.account,
                    "targetAccount": config.target_account or stack.account,
                    "sourceRegion": config.source_region or "",
                    "targetRegion": config.target_region or "",
                    "queueUrl": self.queue.queue_url,
                    "holdMinutes": config.event_hold_minutes,
                    "maxPurgePerHour": config.event_max_purge_per_hour,
                    "notificationTopicArn": topic.topic_arn,
                }
            ),
        )
        function.add_event_source(
            sources.SqsEventSource(self.queue, batch_size=10, report_batch_item_failures=True)
        )
        # Where the consumer keeps the brake's state (events.consumer.EVENTS_FOLDER).
        self.brake_uri = f"s3://{report_bucket.bucket_name}/{WORKSPACE_PREFIX}events/brake.json"
        role = functions.roles["events"]
        # The source and target grants are BUCKET_GRANTS["…"]["events"] (permissions.py).
        allow(role, ["s3:ListBucket"], [report_bucket.bucket_arn])
        # The last batch run's verdict on the source (workflow.verdict).
        allow(
            role,
            ["s3:GetObject"],
            [report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}source-verdict.json")],
        )
        allow(
            role,
            ["s3:GetObject", "s3:PutObject"],
            [
                report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}events/*"),
                report_bucket.arn_for_objects(f"*{REPORTS_PREFIX}*"),
            ],
        )
        if task_arn:
            allow(role, ["datasync:DescribeTask"], [task_arn])
            allow(
                role,
                ["datasync:DescribeLocationS3"],
                [f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:location/*"],
            )
        topic.grant_publish(role)
        self.alarms = [
            self._alarm(
                "DeadLetterAlarm",
                dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                "syncpurge event path: events in the dead-letter queue (the batch run still "
                "decides their keys)",
                topic,
            ),
            self._alarm(
                "BrakeAlarm",
                cloudwatch.Metric(
                    namespace="syncpurge",
                    metric_name="BrakeTripped",
                    dimensions_map={"service": "syncpurge"},
                    period=Duration.minutes(5),
                    statistic="Sum",
                ),
                "syncpurge event path latched off (eventMaxPurgePerHour): review, then "
                "`syncpurge events resume --stack <stack>`",
                topic,
            ),
        ]
        NagSuppressions.add_resource_suppressions(
            dead_letters,
            [
                {
                    "id": "AwsSolutions-SQS3",
                    "reason": "This is the dead-letter queue of the event path's queue; its "
                    "messages are kept 14 days and alarm the topic.",
                }
            ],
        )
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Object keys are known only from events: object actions are "
                    "scoped to the source's and target's objects, the event workspace and "
                    "the report folder; DataSync locations are read by id; log streams are "
                    "in the function's own log group; X-Ray takes no resource.",
                }
            ],
            apply_to_children=True,
        )

    def _alarm(
        self, id: str, metric: cloudwatch.IMetric, description: str, topic: sns.ITopic
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
        return alarm
