"""Runs of the CLI's driver (`syncpurge.engine`) on a test's buckets: the policy the CLI
builds, its run folder and workspace under a report root, a stored plan to apply, and a
task's reports to read lineage from."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from syncpurge.core.lineage import LineageIndex, report_prefix
from syncpurge.core.policy import Place, PolicySettings, RunPolicy, build_policy
from syncpurge.core.run_ids import new_run_id
from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.engine import RunFolders, RunResult, RunStores, reconcile
from syncpurge.models import ReconcileRequest
from syncpurge.phases.report import read_entries_lines
from syncpurge.workflow import Stores
from syncpurge.workflow.prepare import stored_request
from tests.helpers import BucketPair


def run_engine(
    pair: BucketPair,
    report_dir: Path,
    request: dict[str, Any] | None = None,
    *,
    client: Any = None,
    source_client: Any = None,
    page_size: int = 1000,
    lineage: LineageIndex | None = None,
) -> tuple[RunResult, list[dict[str, Any]]]:
    """One reconcile run on the pair, its report under `report_dir`; returns the result and
    the report's entry lines. `lineage`: records of the task's reports, which the run reads
    as DataSync wrote them."""
    counter = RequestCounter()
    source = S3Store(source_client or pair.client, counter, page_size=page_size)
    target = S3Store(client or pair.client, counter, page_size=page_size)
    policy = engine_policy(pair.source, pair.target, ReconcileRequest.model_validate(request or {}))
    if lineage is not None:
        lineage_place = task_reports(pair.client, lineage)
        policy = dataclasses.replace(policy, lineage=lineage_place)
    result = engine_run(policy, source=source, target=target, report=report_dir)
    return result, list(read_entries_lines(report_dir / result.summary.run_id))


def engine_run(
    policy: RunPolicy,
    *,
    source: S3Store,
    target: S3Store,
    report: Path,
    run_id: str | None = None,
    workers: int = 1,
    progress: Any = None,
) -> RunResult:
    """`syncpurge.engine.reconcile` as the CLI calls it, its run folder `report/<run-id>/`
    (and its workspace beside it, in `report/syncpurge-work/`)."""
    run_id = run_id or new_run_id(datetime.now(UTC))
    folders = RunFolders.under(Place(None, f"{report}/"), run_id, source)
    return reconcile(
        policy,
        stores=RunStores(source, target, source),
        folders=folders,
        run_id=run_id,
        workers=workers,
        progress=progress,
    )


def applying_request(
    request: ReconcileRequest, report: Path, plan_run: str, store: S3Store
) -> ReconcileRequest:
    """The request that applies run `plan_run`'s stored plan, kept under `report` (as the
    CLI's --apply-plan reads it: `workflow.prepare.stored_request`)."""
    request = request.model_copy(update={"apply_plan": plan_run})
    folders = RunFolders.under(Place(None, f"{report}/"), "applying", store)
    return stored_request(Stores(store, files=folders.files), folders.workspace, plan_run, request)


LINEAGE_BUCKET = "task-reports"
LINEAGE_TASK = "task-0123456789abcdef0"
LINEAGE_EXECUTION = "exec-0123456789abcdef0"


def task_reports(client: Any, lineage: LineageIndex) -> Place:
    """`lineage`'s records as the transferred report a DataSync task writes (Enhanced mode
    where a record has an ETag, Basic mode where not), in a bucket of their own: the place
    a run's policy reads lineage from."""
    client.create_bucket(Bucket=LINEAGE_BUCKET)
    prefix = report_prefix("", LINEAGE_TASK)
    items: list[dict[str, Any]] = []
    for version_id, origin in lineage.records():
        when = origin.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ") if origin.last_modified else None
        if origin.etag is not None:
            meta = {"ContentSize": origin.size, "LastModified": when}
            meta["SystemMetadata"] = {"ETag": origin.etag}  # type: ignore[assignment]
            items.append({"RelativePath": origin.relative_key, "SourceMetadata": meta})
        else:
            basic = {"ContentSize": origin.size, "Mtime": when}
            items.append({"RelativePath": f"/{origin.relative_key}", "SrcMetadata": basic})
        items[-1] |= {"DstS3VersionId": version_id, "TransferStatus": "SUCCESS"}
    execution = LINEAGE_EXECUTION
    key = f"{prefix}{execution}/{execution}.files-transferred-v1-00001-0123456789abcdef.json"
    client.put_object(Bucket=LINEAGE_BUCKET, Key=key, Body=json.dumps({"Transferred": items}))
    return Place(LINEAGE_BUCKET, prefix)


def engine_policy(
    source_bucket: str,
    target_bucket: str,
    request: ReconcileRequest,
    *,
    scope: Scope | None = None,
) -> RunPolicy:
    """The policy `syncpurge reconcile` builds for two buckets and no task: the request,
    the whole buckets or `scope`, a local report."""
    settings = PolicySettings(
        source_bucket=source_bucket,
        target_bucket=target_bucket,
        mode=request.mode,
        report=Place(None, "syncpurge-reports/"),
    )
    policy = build_policy(settings, None, request, run_id=new_run_id(datetime.now(UTC)))
    return policy if scope is None else dataclasses.replace(policy, scope=scope)
