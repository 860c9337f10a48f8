"""The CLI's driver of a run: the state machine's steps (`syncpurge.workflow`), called
in-process, their Distributed Maps run on a pool of threads (docs/design.md §14).

Lambda and the state machine drive the same steps: Plan cuts the scope into work items,
each Diff item is diffed and hands back what it finds too large, Recut makes the next wave
of them, Guard decides, each Purge item is purged, and Report writes the report. Here a
slice runs until its item is done or the run stops (Ctrl-C, or the first error); each
slice counts its requests apart, as each Lambda invocation does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from syncpurge.core.policy import Place, RunPolicy
from syncpurge.data.files import FolderStore, RunFiles
from syncpurge.data.s3store import S3Store
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.phases.diffing import NullProgress, ProgressListener
from syncpurge.phases.preflight import run_preflight
from syncpurge.phases.report import StoreDestination, write_summary
from syncpurge.pipeline import Pipeline, RunResult, RunStores, failed_summary, unreported
from syncpurge.workflow import (
    RunConfig,
)
from syncpurge.workflow.context import (
    WORKSPACE_PREFIX,
    Location,
    put_json,
)
from syncpurge.workflow.prepare import RunPlaces, run_context

__all__ = [
    "DEFAULT_WORKERS",
    "MAX_WORKERS",
    "RunFolders",
    "RunResult",
    "RunStores",
    "reconcile",
]

# The CLI's threads: eight keep one core busy parsing pages against S3's 0.1 to 0.3 s a
# LIST page (two listings each, ~20 ms of CPU a page); at most as many as the S3 clients'
# connection pools hold (data.clients.RETRY_CONFIG).
DEFAULT_WORKERS = 8
MAX_WORKERS = 32


@dataclass(frozen=True, slots=True)
class RunFolders:
    """Where a run keeps its report and its workspace, and the files that hold them."""

    files: RunFiles
    report: Location
    workspace: Location
    shown: str  # the report folder, as a person finds it

    @classmethod
    def under(cls, root: Place, run_id: str, s3: S3Store) -> RunFolders:
        """A run's report folder `<root>/<run-id>/` and its workspace beside the other
        runs', `<root>/syncpurge-work/<run-id>/`: in S3, or in a local folder (whose
        folder is the bucket of a FolderStore, so the layout is the same)."""
        if root.bucket is not None:
            report = Location(bucket=root.bucket, prefix=f"{root.prefix}{run_id}/")
            workspace = Location(
                bucket=root.bucket, prefix=f"{root.prefix}{WORKSPACE_PREFIX}{run_id}/"
            )
            return cls(s3, report, workspace, f"s3://{root.bucket}/{report.prefix}")
        folder = Path(root.prefix).resolve()
        return cls(
            FolderStore(folder.parent),
            Location(bucket=folder.name, prefix=f"{run_id}/"),
            Location(bucket=folder.name, prefix=f"{WORKSPACE_PREFIX}{run_id}/"),
            str(Path(root.prefix) / run_id),
        )

    @property
    def destination(self) -> StoreDestination:
        return StoreDestination(self.files, self.report.bucket, self.report.prefix)


def reconcile(
    policy: RunPolicy,
    *,
    stores: RunStores,
    folders: RunFolders,
    run_id: str,
    progress: ProgressListener | None = None,
    now: datetime | None = None,
    workers: int = 1,
) -> RunResult:
    """One run as its door's `policy` (syncpurge.core.policy) allows, through the state
    machine's steps, `workers` items at a time. The policy checked the request and the
    scope; the steps check nothing of them again."""
    started = now or datetime.now(UTC)
    listener = progress or NullProgress()
    settings = policy.settings
    config = RunConfig(
        **settings_fields(policy, folders),
        diff_max_concurrency=max(1, workers),
        purge_max_concurrency=max(1, workers),
        state_machine_arn="",
        execution_arn="",
        execution_name=run_id,
        start_time=started,
    )
    listener.phase("preflight")
    try:
        preflight = run_preflight(
            stores.source,
            stores.target,
            settings.source_bucket,
            settings.target_bucket,
            report_bucket=policy.report.bucket,
        )
    except (PreflightRefused, InvalidInput) as err:
        return refused_before_run(policy, folders, run_id, started, err)
    places = RunPlaces(report=folders.report, workspace=folders.workspace, regions={})
    run = run_context(config, policy, None, places, preflight)
    # Kept with the plan, so a later run can apply this one's plan (--apply-plan), as
    # Prepare keeps a state machine run's.
    try:
        put_json(stores.for_step(folders.files), run.workspace, "run.json", run.to_state())
    except (OSError, ClientError) as err:  # found before anything is listed or deleted
        where = folders.files.shown(run.workspace.bucket, run.workspace.prefix)
        problem = f"the run's workspace could not be written to {where}: {err}"
        return RunResult(unreported(run, problem))
    return Pipeline(run, stores, folders.files, listener, workers).run()


def settings_fields(policy: RunPolicy, folders: RunFolders) -> dict[str, Any]:
    """The RunConfig fields a door's policy settings give (the CLI's flags); the report
    bucket is the one its folders lie in (a local report root's folder, for a FolderStore)."""
    settings = policy.settings
    return {
        "source_bucket": settings.source_bucket,
        "target_bucket": settings.target_bucket,
        "task_arn": "",
        "mode": policy.request.mode,
        "source_account": settings.source_account,
        "target_account": settings.target_account,
        "report_account": settings.report_account,
        "report_bucket": folders.report.bucket,
        "prefixes": list(settings.prefixes),
    }


def refused_before_run(
    policy: RunPolicy, folders: RunFolders, run_id: str, started: datetime, err: Exception
) -> RunResult:
    """The preflight refused the pair: a FAILED summary naming why, nothing listed."""
    summary = failed_summary(
        policy.request,
        run_id=run_id,
        pair=(policy.settings.source_bucket, policy.settings.target_bucket),
        scope=policy.scope.describe(),
        started=started,
        error=f"{type(err).__name__}: {err}",
    )
    write_summary(folders.destination, summary)
    return RunResult(summary, refusal=str(err))
