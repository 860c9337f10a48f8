"""Where syncpurge's files live in the report bucket, as the IAM resources that name them.

  <subdir>Purge-Reports/<task-id>/<run-id>/   every run's report and journal (<subdir>: the
                                               task's report Subdirectory, "" without one)
  <subdir>Detailed-Reports/<task-id>/…         DataSync's task reports: lineage, read only
  syncpurge-work/<run-id>/, …/boundaries/      run workspaces (expire)
  syncpurge-state/                             what never expires: the event path's brake
                                               and holds, the last batch run's verdict

A given task's report Subdirectory is only known when a run reads the task: there the
report and lineage grants match it with a leading wildcard, and every role that writes
reports is denied DataSync's own report folders, so none can plant lineage.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Fn
from aws_cdk import aws_s3 as s3

from syncpurge_infra.config import (
    BRAKE_KEY,
    DATASYNC_REPORT_FOLDERS,
    DATASYNC_REPORT_SUBDIRECTORY,
    DETAILED_REPORTS_PREFIX,
    ERASURE_REQUESTS_PREFIX,
    HOLDS_PREFIX,
    REPORTS_PREFIX,
    VERDICT_KEY,
    WORKSPACE_PREFIX,
    DeploymentConfig,
)


@dataclass(frozen=True)
class ReportLayout:
    bucket: s3.IBucket
    reports: str  # every run's report folder (and its journal)
    lineage: str | None  # the task's detailed reports; None without a task
    workspace: str
    boundaries: str  # the pointer Report leaves for the next run of a scope
    brake: str
    holds: str
    verdict: str
    erasure_requests: str  # keys files of erasure requests: Erase reads them
    # DataSync's report folders, where no report writer may write (a given task only).
    datasync_folders: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, config: DeploymentConfig, bucket: s3.IBucket, created_task_arn: str | None
    ) -> ReportLayout:
        objects = bucket.arn_for_objects
        if config.task_arn:  # a given task: its report Subdirectory is unknown at synth
            task_id = config.task_arn.rsplit("/", 1)[-1]
            reports = objects(f"*{REPORTS_PREFIX}{task_id}/*")
            lineage: str | None = objects(f"*{DETAILED_REPORTS_PREFIX}{task_id}/*")
            folders = tuple(objects(f"*{folder}*") for folder in DATASYNC_REPORT_FOLDERS)
        elif created_task_arn:
            task_id = Fn.select(1, Fn.split("/", created_task_arn))
            subdirectory = DATASYNC_REPORT_SUBDIRECTORY
            reports = objects(f"{subdirectory}{REPORTS_PREFIX}*")
            lineage = objects(f"{subdirectory}{DETAILED_REPORTS_PREFIX}{task_id}/*")
            folders = ()
        else:  # no task: reports at the bucket's root, no lineage
            reports, lineage, folders = objects(f"{REPORTS_PREFIX}*"), None, ()
        return cls(
            bucket=bucket,
            reports=reports,
            lineage=lineage,
            workspace=objects(f"{WORKSPACE_PREFIX}*"),
            boundaries=objects(f"{WORKSPACE_PREFIX}boundaries/*"),
            brake=objects(BRAKE_KEY),
            holds=objects(f"{HOLDS_PREFIX}*"),
            verdict=objects(VERDICT_KEY),
            erasure_requests=objects(f"{ERASURE_REQUESTS_PREFIX}*"),
            datasync_folders=folders,
        )
