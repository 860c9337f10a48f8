"""Each step's IAM statements, and the event path's, as narrow as its job (never a write on
the source; the state under syncpurge-state/ written only by the role that owns it)."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from syncpurge_infra.config import DeploymentConfig
from syncpurge_infra.constructs.bucket_grants import step_grants
from syncpurge_infra.constructs.common import allow, deny
from syncpurge_infra.constructs.functions import Functions
from syncpurge_infra.constructs.report_layout import ReportLayout

WHY_BUCKET = (
    "Object keys are only known at run time: the step's object actions cover the bucket's "
    "objects, or with `prefixes` the keys under them."
)
WHY_WORKSPACE = "The run workspace's object names are made per run: syncpurge-work/<run-id>/..."
WHY_REPORTS = (
    "Report files are named per task and run under the report prefix; with an existing "
    "task its report Subdirectory is only known at run time (a leading wildcard)."
)
WHY_LINEAGE = "DataSync names its task reports per execution under the task's report folder."
WHY_HOLDS = "The event path keeps one hold record per key, named by the key's digest."
WHY_REQUESTS = "Erasure requests name their keys file at run time, under erasure-requests/."
WHY_LOCATIONS = "DataSync locations are read by id; the task names them only at run time."


def grant_step_permissions(
    functions: Functions,
    *,
    config: DeploymentConfig,
    layout: ReportLayout,
    task_arn: str | None,
    state_machine_arn: str,
) -> None:
    """Each step's S3, DataSync and Step Functions permissions, nothing more."""
    roles = functions.roles
    grant_bucket_calls(roles, config)
    bucket = layout.bucket.bucket_arn
    # Prepare asks the report bucket where it is (HeadBucket, else GetBucketLocation),
    # keeps the run's context in its workspace and reads an applied plan's.
    allow(roles["prepare"], ["s3:ListBucket", "s3:GetBucketLocation"], [bucket])
    allow(roles["prepare"], ["states:ListExecutions"], [state_machine_arn])
    if task_arn:
        grant_task_reads(roles["prepare"], task_arn)
    allow(roles["prepare"], ["s3:GetObject", "s3:PutObject"], [layout.workspace], why=WHY_WORKSPACE)
    # Plan reads the task's detailed reports (lineage) and files them per item; it and
    # Diff write the workspace, and read it (an applied plan's figures, lineage records).
    allow(roles["plan"], ["s3:ListBucket"], [bucket])
    if layout.lineage:
        allow(roles["plan"], ["s3:GetObject"], [layout.lineage], why=WHY_LINEAGE)
    for step in ("plan", "diff"):
        allow(roles[step], ["s3:GetObject", "s3:PutObject"], [layout.workspace], why=WHY_WORKSPACE)
    # Guard and Report read the workspace; Guard writes its decision there.
    for step in ("guard", "report"):
        allow(roles[step], ["s3:ListBucket"], [bucket])
        allow(roles[step], ["s3:GetObject"], [layout.workspace], why=WHY_WORKSPACE)
    allow(roles["guard"], ["s3:PutObject"], [layout.workspace], why=WHY_WORKSPACE)
    # Report reads each Purge slice's journal against its outcomes (an entry sent whose
    # outcome was never recorded is reported), writes the report, points the next run of
    # the scope at this run's recorded key boundaries, and keeps its verdict on the source
    # for the event path (its owner).
    allow(roles["report"], ["s3:GetObject"], [layout.reports], why=WHY_REPORTS)
    grant_report_writes(roles["report"], layout)
    allow(roles["report"], ["s3:PutObject"], [layout.boundaries], why=WHY_WORKSPACE)
    allow(roles["report"], ["s3:PutObject"], [layout.verdict])
    # Purge: its item's plan in the workspace; each batch's journal in the report folder
    # before the batch is sent.
    allow(roles["purge"], ["s3:GetObject", "s3:PutObject"], [layout.workspace], why=WHY_WORKSPACE)
    grant_report_writes(roles["purge"], layout)
    # Erase: a request's keys file, and its receipt, journal and entries in the report
    # folder; after every run, the recent receipts read and followed up beside them.
    allow(roles["erase"], ["s3:ListBucket"], [bucket])
    allow(roles["erase"], ["s3:GetObject"], [layout.erasure_requests], why=WHY_REQUESTS)
    allow(roles["erase"], ["s3:GetObject"], [layout.reports], why=WHY_REPORTS)
    grant_report_writes(roles["erase"], layout)


def grant_event_permissions(
    role: iam.IRole, *, config: DeploymentConfig, layout: ReportLayout, task_arn: str | None
) -> None:
    """The event path's consumer: its source and target calls (BUCKET_GRANTS["…"]
    ["events"]), its state (the owner of the brake and the holds; it only reads the
    verdict), the hour's report, and the task's scope."""
    allow(role, ["s3:ListBucket"], [layout.bucket.bucket_arn])
    allow(role, ["s3:GetObject", "s3:PutObject"], [layout.brake])
    allow(role, ["s3:GetObject", "s3:PutObject"], [layout.holds], why=WHY_HOLDS)
    allow(role, ["s3:GetObject"], [layout.verdict])
    allow(role, ["s3:GetObject"], [layout.reports], why=WHY_REPORTS)
    grant_report_writes(role, layout)
    if task_arn:
        grant_task_reads(role, task_arn)


def grant_bucket_calls(roles: dict[str, iam.Role], config: DeploymentConfig) -> None:
    """Each step's calls on the source and the target (BUCKET_GRANTS): never a write on
    the source. The same table gives the other account's bucket policy (bucket_policy)."""
    for side in ("source", "target"):
        for grant in step_grants(roles["prepare"], side, config):
            allow(
                roles[grant.step],
                grant.actions,
                grant.resources,
                why=WHY_BUCKET,
                conditions=grant.conditions,
            )


def grant_report_writes(role: iam.IRole, layout: ReportLayout) -> None:
    """PutObject in the report folder, and (its Subdirectory unknown) never in DataSync's."""
    allow(role, ["s3:PutObject"], [layout.reports], why=WHY_REPORTS)
    if layout.datasync_folders:
        deny(role, ["s3:PutObject"], list(layout.datasync_folders))


def grant_task_reads(role: iam.IRole, task_arn: str) -> None:
    """DescribeTask on the task, DescribeLocationS3 on this account's locations."""
    stack = Stack.of(role)
    allow(role, ["datasync:DescribeTask"], [task_arn])
    allow(
        role,
        ["datasync:DescribeLocationS3"],
        [f"arn:{stack.partition}:datasync:{stack.region}:{stack.account}:location/*"],
        why=WHY_LOCATIONS,
    )
