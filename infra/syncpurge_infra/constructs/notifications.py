"""The SNS topic every run's outcome goes to (the Report step publishes; the alarm too)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from syncpurge_infra.config import DeploymentConfig
from syncpurge_infra.constructs.nag import excuse_wildcards

# What publishing to a KMS-encrypted topic needs of its key.
PUBLISH_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
WHY_KEY = "Publishing to the encrypted topic needs kms:GenerateDataKey* on its one key."


class Notifications(Construct):
    """An encrypted topic, always created and exported; alarmEmail subscribes an address."""

    def __init__(self, scope: Construct, id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, id)
        self.key = kms.Key(
            self, "TopicKey", enable_key_rotation=True, description="syncpurge notifications"
        )
        self._let_alarms_publish()
        self.topic = sns.Topic(
            self, "Topic", master_key=self.key, enforce_ssl=True, display_name="syncpurge"
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        CfnOutput(
            self,
            "TopicArn",
            value=self.topic.topic_arn,
            description="Every run's outcome (and failure alarms) are published here",
            export_name=f"{Stack.of(self).stack_name}-NotificationTopicArn",
        )

    def _let_alarms_publish(self) -> None:
        """CloudWatch alarms publish to the encrypted topic through this key: only what SNS
        needs of it for them (sns-key-management, "compatibility with AWS services"), and
        only for this account's alarms (no confused deputy)."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=list(PUBLISH_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:"
                        f"{stack.account}:alarm:*"
                    },
                },
            )
        )

    def grant_publish(self, role: iam.IRole) -> None:
        self.topic.grant_publish(role)
        self.key.grant(role, *PUBLISH_KEY_ACTIONS)
        excuse_wildcards(role, WHY_KEY, actions=PUBLISH_KEY_ACTIONS)
