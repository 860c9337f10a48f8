"""The DataSync task the app creates when none is given."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_datasync as datasync
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from syncpurge_infra.config import (
    DATASYNC_REPORT_SUBDIRECTORY,
    DeploymentConfig,
)
from syncpurge_infra.constructs.common import allow, s3_arn

WHY_OBJECTS = "DataSync transfers any key of its location: object actions cover its objects (/*)."


class DataSyncTask(Construct):
    """An Enhanced-mode S3→S3 task: CHANGED, PreserveDeletedFiles=REMOVE, a versioned report."""

    def __init__(
        self, scope: Construct, id: str, *, config: DeploymentConfig, report_bucket: s3.IBucket
    ) -> None:
        super().__init__(scope, id)
        source = s3_arn(self, config.source_bucket)
        target = s3_arn(self, config.target_bucket)
        principal = iam.ServicePrincipal(
            "datasync.amazonaws.com",
            conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
        )
        # The source role reads, and nothing else: no write, no delete on the source, ever.
        source_role = iam.Role(self, "SourceAccess", assumed_by=principal)
        allow(
            source_role,
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [source],
        )
        allow(
            source_role,
            [
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:GetObjectVersion",
                "s3:GetObjectVersionTagging",
            ],
            [f"{source}/*"],
            why=WHY_OBJECTS,
        )
        target_role = iam.Role(self, "TargetAccess", assumed_by=principal)
        allow(
            target_role,
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [target],
        )
        allow(
            target_role,
            [
                "s3:AbortMultipartUpload",
                "s3:DeleteObject",
                "s3:GetObject",
                "s3:GetObjectTagging",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
                "s3:PutObjectTagging",
            ],
            [f"{target}/*"],
            why=WHY_OBJECTS,
        )
        report_role = iam.Role(self, "ReportAccess", assumed_by=principal)
        allow(
            report_role,
            ["s3:PutObject"],
            [report_bucket.arn_for_objects(f"{DATASYNC_REPORT_SUBDIRECTORY}*")],
            why="DataSync names its task reports per execution, in its report folder.",
        )

        source_location = datasync.CfnLocationS3(
            self,
            "Source",
            s3_bucket_arn=source,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(
                bucket_access_role_arn=source_role.role_arn
            ),
        )
        target_location = datasync.CfnLocationS3(
            self,
            "Target",
            s3_bucket_arn=target,
            s3_config=datasync.CfnLocationS3.S3ConfigProperty(
                bucket_access_role_arn=target_role.role_arn
            ),
        )
        task = datasync.CfnTask(
            self,
            "Task",
            name=f"{config.stack_name}-sync",
            source_location_arn=source_location.attr_location_arn,
            destination_location_arn=target_location.attr_location_arn,
            task_mode="ENHANCED",
            options=datasync.CfnTask.OptionsProperty(
                transfer_mode="CHANGED",
                preserve_deleted_files="REMOVE",
                verify_mode="ONLY_FILES_TRANSFERRED",
                object_tags="PRESERVE",
            ),
            task_report_config=datasync.CfnTask.TaskReportConfigProperty(
                destination=datasync.CfnTask.DestinationProperty(
                    s3=datasync.CfnTask.S3Property(
                        bucket_access_role_arn=report_role.role_arn,
                        s3_bucket_arn=report_bucket.bucket_arn,
                        subdirectory=DATASYNC_REPORT_SUBDIRECTORY.rstrip("/"),
                    )
                ),
                output_type="STANDARD",
                report_level="SUCCESSES_AND_ERRORS",
                object_version_ids="INCLUDE",
            ),
        )
        self.task_arn = task.attr_task_arn
