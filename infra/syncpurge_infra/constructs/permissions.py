"""Each step's IAM statements, as narrow as its job (never a write on the source)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions

from syncpurge_infra.config import (
    REPORTS_PREFIX,
    WORKSPACE_PREFIX,
    DeploymentConfig,
)
from syncpurge_infra.constructs.bucket_grants import step_grants
from syncpurge_infra.constructs.common import STEPS
from syncpurge_infra.constructs.functions import Functions


def grant_step_permissions(
    functions: Functions,
    *,
    config: DeploymentConfig,
    report_bucket: s3.IBucket,
    task_arn: str | None,
    state_machine_arn: str,
) -> None:
    """Each step's S3, DataSync and Step Functions permissions, nothing more."""
    stack = Stack.of(functions)
    workspace = report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}*")

    def allow_step(step: str, actions: list[str], resources: list[str]) -> None:
        functions.roles[step].add_to_policy(
            iam.PolicyStatement(actions=actions, resources=resources)
        )

    # Each step's calls on the source and the target (BUCKET_GRANTS): never a write on the
    # source. The same table gives the other account's bucket policy (bucket_policy).
    for side in ("source", "target"):
        for grant in step_grants(functions, side, config):
            allow_step(grant.step, grant.actions, [grant.resource])
    # Prepare asks the report bucket where it is (HeadBucket, else GetBucketLocation).
    allow_step("prepare", ["s3:ListBucket", "s3:GetBucketLocation"], [report_bucket.bucket_arn])
    allow_step("prepare", ["states:ListExecutions"], [state_machine_arn])
    if task_arn:
        allow_step("prepare", ["datasync:DescribeTask"], [task_arn])
        allow_step(
            "prepare",
            ["datasync:DescribeLocationS3"],
            [f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:location/*"],
        )
    # Plan and Diff write the workspace.
    for step in ("plan", "diff"):
        allow_step(step, ["s3:PutObject"], [workspace])
    # Plan reads the DataSync task's detailed reports (lineage) and files them per item.
    allow_step("plan", ["s3:ListBucket"], [report_bucket.bucket_arn])
    allow_step("plan", ["s3:GetObject"], [report_bucket.arn_for_objects("*Detailed-Reports/*")])
    # Prepare keeps the run's context in its workspace and reads an applied plan's; Plan
    # reads that plan's figures.
    allow_step("prepare", ["s3:GetObject", "s3:PutObject"], [workspace])
    allow_step("plan", ["s3:GetObject"], [workspace])
    # Diff: the item's lineage records.
    allow_step("diff", ["s3:GetObject"], [workspace])
    # Guard and Report: read the workspace.
    for step in ("guard", "report"):
        allow_step(step, ["s3:ListBucket"], [report_bucket.bucket_arn])
        allow_step(step, ["s3:GetObject"], [workspace])
    allow_step("guard", ["s3:PutObject"], [workspace])
    allow_step("report", ["s3:PutObject"], [report_bucket.arn_for_objects(f"*{REPORTS_PREFIX}*")])
    # Report points the next run of the scope at this run's recorded key boundaries, and
    # keeps its verdict on the source for the event path.
    allow_step(
        "report",
        ["s3:PutObject"],
        [
            report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}boundaries/*"),
            report_bucket.arn_for_objects(f"{WORKSPACE_PREFIX}source-verdict.json"),
        ],
    )
    # Purge: delete target versions only; re-list the source (verify before destroy).
    allow_step("purge", ["s3:GetObject", "s3:PutObject"], [workspace])
    # The journal of each batch goes to the report folder before the batch is sent.
    allow_step("purge", ["s3:PutObject"], [report_bucket.arn_for_objects(f"*{REPORTS_PREFIX}*")])
    for step in STEPS:
        NagSuppressions.add_resource_suppressions(
            functions.roles[step],
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Object keys are only known at run time: object actions are "
                    "scoped to the run workspace, the report folder, or (purge) the "
                    "target's versions; "
                    "the task's DataSync locations are read by id; log streams are created "
                    "in the function's own log group; X-Ray takes no resource.",
                }
            ],
            apply_to_children=True,
        )
