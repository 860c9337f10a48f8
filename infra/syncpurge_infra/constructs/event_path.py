"""The event path (docs/design.md §13, setting events=on): the source's permanent-delete events,
a rule, a queue where they wait out their hold, and the consumer that decides each key."""

from __future__ import annotations

import math

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from syncpurge_infra.config import BRAKE_KEY, EVENTS_SIZING, DeploymentConfig
from syncpurge_infra.constructs.functions import Functions
from syncpurge_infra.constructs.notifications import Notifications
from syncpurge_infra.constructs.permissions import grant_event_permissions
from syncpurge_infra.constructs.report_layout import ReportLayout

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
        layout: ReportLayout,
        task_arn: str | None,
        notifications: Notifications,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        topic = notifications.topic
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
                source=["aws.s3"],
                # S3 names the bucket owner's account: another account's bucket of that name
                # is not the source.
                account=[config.source_account or stack.account],
                detail_type=["Object Deleted"],
                detail=detail,
            ),
        )
        self.rule.add_target(targets.SqsQueue(self.queue, dead_letter_queue=dead_letters))
        for queue in (self.queue, dead_letters):
            only_the_rule_sends(queue, self.rule)
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
                    "reportBucket": layout.bucket.bucket_name,
                    # The report bucket is this stack's own (ExpectedBucketOwner).
                    "reportAccount": stack.account,
                    # Refused at synth with events=on; kept so the consumer refuses it too.
                    "requireApproval": config.require_approval,
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
        # Where the consumer keeps the brake (syncpurge.events.consumer).
        self.brake_uri = f"s3://{layout.bucket.bucket_name}/{BRAKE_KEY}"
        role = functions.roles["events"]
        grant_event_permissions(role, config=config, layout=layout, task_arn=task_arn)
        notifications.grant_publish(role)
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


def only_the_rule_sends(queue: sqs.Queue, rule: events.Rule) -> None:
    """No one but the rule may send to `queue` (the rule's target, or its dead-letter queue,
    which EventBridge also sends to as the rule): the hold counts from when the queue took
    a message, and a forged event must not reach the consumer. The queue's own redrive to
    its dead-letter queue is SQS moving a message, not a SendMessage, and stays allowed."""
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyTheRuleSends",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnNotEquals": {"aws:SourceArn": rule.rule_arn}},
        )
    )
