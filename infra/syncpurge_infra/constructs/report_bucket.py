"""Where reports and run workspaces go: the configured bucket, or one made here."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

from syncpurge_infra.config import (
    HOLD_RECORD_DAYS,
    HOLDS_PREFIX,
    WORKSPACE_PREFIX,
    DeploymentConfig,
)


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
            # The audit trail: a report or journal overwritten keeps its earlier version.
            versioned=True,
            # Run workspaces expire, with their old versions, and so do the event path's
            # hold records long after their use; reports, the brake and the verdict never.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-run-workspaces",
                    prefix=WORKSPACE_PREFIX,
                    expiration=Duration.days(config.workspace_retention_days),
                    noncurrent_version_expiration=Duration.days(config.workspace_retention_days),
                ),
                s3.LifecycleRule(
                    id="expire-event-hold-records",
                    prefix=HOLDS_PREFIX,
                    expiration=Duration.days(HOLD_RECORD_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                ),
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
