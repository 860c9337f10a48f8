"""Prepare: validate the request, run the preflight, read the task and the scope."""

from __future__ import annotations

from typing import Any

from syncpurge.apply import applying
from syncpurge.data.aws import TaskFacts, arn_home
from syncpurge.errors import AlreadyRunning, InvalidInput, PreflightRefused
from syncpurge.lineage import report_prefix
from syncpurge.models import ReconcileRequest, parse_request
from syncpurge.preflight import run_preflight
from syncpurge.scope import Scope, split_patterns
from syncpurge.workflow.context import (
    WORKSPACE_PREFIX,
    Location,
    PairSettings,
    RunConfig,
    RunContext,
    Stores,
    Wire,
    expect_owners,
    find_regions,
    get_json,
    put_json,
    stored_workspace,
)

REPORTS_PREFIX = "Purge-Reports/"


class PrepareEvent(Wire):
    request: Any = None
    config: RunConfig


def prepare(event: PrepareEvent, stores: Stores) -> dict[str, Any]:
    """Validate, run the preflight, read the task; the initial state of the execution."""
    if not isinstance(event.request, dict):
        raise InvalidInput(f"the input must be a JSON object, got {type(event.request).__name__}")
    config = event.config
    expect_owners(stores, config)
    request = parse_request({"mode": config.mode.value, **event.request})
    if request.mode is not config.mode:
        raise InvalidInput(
            f"mode: this deployment runs in {config.mode.value} mode (its setting 'mode'), "
            f"so it can't serve a {request.mode.value}-mode request; omit 'mode' or deploy "
            f"with -c mode={request.mode.value}"
        )
    if stores.executions is not None:
        others = [
            arn
            for arn in stores.executions.running_executions(config.state_machine_arn)
            if arn != config.execution_arn
        ]
        if others:
            raise AlreadyRunning(
                f"another execution of this state machine is running: {others[0]}; "
                "wait for it to finish (runs purge the same target)"
            )
    facts = read_task(config, stores) if config.task_arn else None
    task_id = facts.task_id if facts else "no-task"
    run_id = config.execution_name
    report = report_location(config.report_bucket, facts, run_id)
    workspace = Location(bucket=config.report_bucket, prefix=f"{WORKSPACE_PREFIX}{run_id}/")
    if request.apply_plan:
        request = stored_request(stores, workspace, request.apply_plan, request)
    scope = run_scope(config, facts, report, workspace)
    scope.check()
    for prefix in request.prefixes:
        scope.check_prefix(prefix)
    if workspace.bucket == config.source_bucket:
        raise PreflightRefused(
            f"the run workspace is in the source bucket {config.source_bucket!r}: syncpurge "
            "never writes to the source"
        )
    buckets = [config.source_bucket, config.target_bucket, report.bucket, workspace.bucket]
    regions = find_regions(stores, config, buckets)
    stores.s3.place(regions)
    preflight = run_preflight(
        stores.s3,
        stores.s3,
        config.source_bucket,
        config.target_bucket,
        report_bucket=report.bucket,
    )
    advisories = list(preflight.advisories)
    preserve_blocks = False
    if facts is not None:
        advisories.append(f"DataSync task PreserveDeletedFiles={facts.preserve_deleted_files}")
        if facts.preserve_deleted_files == "PRESERVE" and not request.override_preserve:
            preserve_blocks = True
            advisories.append(
                "the DataSync task keeps files deleted at the source (PreserveDeletedFiles="
                "PRESERVE): nothing is purged; start with overridePreserve: true to purge anyway"
            )
    lineage = None
    if facts is not None and facts.report_bucket:
        lineage = Location(
            bucket=facts.report_bucket, prefix=report_prefix(facts.report_subdirectory, task_id)
        )
    run = RunContext(
        run_id=run_id,
        config=config,
        request=request,
        task_id=task_id,
        report=report,
        workspace=workspace,
        skip_sync=request.skip_sync or facts is None,
        includes=datasync_includes(request.scope_prefixes(), facts),
        scope=scope.describe(),
        lineage=lineage,
        regions=regions,
        preserve_blocks_purge=preserve_blocks,
        target_object_lock=preflight.target_object_lock,
        advisories=advisories,
        poll_interval_seconds=config.poll_interval_seconds,
        poll_ceiling_seconds=max(config.poll_ceiling_seconds, config.poll_interval_seconds),
    )
    # Kept with the plan, so a later run can apply this one's plan (applyPlan).
    put_json(stores, workspace, "run.json", run.to_state())
    return {
        "run": run.to_state(),
        "sync": None,
        "error": None,
        "poll": {"seconds": run.poll_interval_seconds},
    }


def stored_request(
    stores: Stores, workspace: Location, run_id: str, request: ReconcileRequest
) -> ReconcileRequest:
    """The request to apply an earlier run's plan with (`syncpurge.apply.applying`)."""
    stored = stored_workspace(workspace, run_id)
    where = f"s3://{stored.bucket}/{stored.prefix}"
    doc = get_json(stores, stored, "run.json")
    if doc is None:
        raise InvalidInput(
            f"applyPlan: no stored plan of run {run_id!r} at {where} (a run's plan is kept "
            "with its workspace, for the deployment's workspaceRetentionDays)"
        )
    if get_json(stores, stored, "guard.json") is None:
        raise InvalidInput(f"applyPlan: run {run_id!r} never finished its plan ({where})")
    planned = RunContext.model_validate(doc)
    stored_request = planned.request
    return applying(
        request,
        mode=stored_request.mode,
        rules=stored_request.rules,
        prefixes=stored_request.prefixes,
    )


def read_task(config: RunConfig, stores: Stores) -> TaskFacts:
    # DataSync has no resource policies: a task is read and started only by its own account,
    # and the state machine's DataSync calls go to its own Region.
    task_home, machine_home = arn_home(config.task_arn), arn_home(config.state_machine_arn)
    if task_home != machine_home:
        raise PreflightRefused(
            f"DataSync task {config.task_arn} is in {task_home[1]} / {task_home[0]}, but this "
            f"state machine runs in {machine_home[1]} / {machine_home[0]}: deploy syncpurge in "
            "the account and Region where the task lives (the buckets may be in other "
            "accounts: see `syncpurge bucket-policy`)"
        )
    if stores.datasync is None:
        raise PreflightRefused("a DataSync task is configured but no DataSync client was given")
    facts = stores.datasync.task_facts(config.task_arn)
    actual = (facts.source.bucket, facts.target.bucket)
    if actual != (config.source_bucket, config.target_bucket):
        raise PreflightRefused(
            f"DataSync task {facts.task_id} copies s3://{actual[0]} to s3://{actual[1]}, not the "
            f"configured s3://{config.source_bucket} to s3://{config.target_bucket}"
        )
    return facts


def report_location(report_bucket: str, facts: TaskFacts | None, run_id: str) -> Location:
    """Where run `run_id` reports: beside the task's own reports when it writes any, else
    in the deployment's report bucket."""
    task_id = facts.task_id if facts else "no-task"
    if facts is not None and facts.report_bucket:
        return Location(
            bucket=facts.report_bucket,
            prefix=f"{facts.report_subdirectory}{REPORTS_PREFIX}{task_id}/{run_id}/",
        )
    return Location(bucket=report_bucket, prefix=f"{REPORTS_PREFIX}{task_id}/{run_id}/")


def run_scope(
    config: PairSettings, facts: TaskFacts | None, report: Location, workspace: Location
) -> Scope:
    """DESIGN §3.1: the task's locations and filters, minus what syncpurge writes itself."""
    excluded: list[str] = []
    for location in (report, workspace):
        if location.bucket == config.target_bucket:
            # The whole report folder: DataSync's own reports live beside ours.
            excluded.extend(report_roots(location.prefix))
    if facts is None:
        return Scope(excluded_target_prefixes=tuple(sorted(set(excluded))))
    return Scope(
        source_root=facts.source.subdirectory,
        target_root=facts.target.subdirectory,
        includes=split_patterns(facts.includes),
        excludes=split_patterns(facts.excludes),
        excluded_target_prefixes=tuple(sorted(set(excluded))),
    )


def report_roots(prefix: str) -> list[str]:
    """The folders a report or workspace location claims in its bucket.

    'sub/Purge-Reports/task/run/' -> ['sub/'] (DataSync's own reports live there too);
    'Purge-Reports/task/run/' at the root -> that and DataSync's report folders;
    'syncpurge-work/run/' -> ['syncpurge-work/'].
    """
    at = prefix.find(WORKSPACE_PREFIX)
    if prefix.startswith(WORKSPACE_PREFIX) and at == 0:
        return [WORKSPACE_PREFIX]
    at = prefix.find(REPORTS_PREFIX)
    if at > 0:
        return [prefix[:at]]
    if at == 0:
        return [REPORTS_PREFIX, "Detailed-Reports/", "Summary-Reports/"]
    return [prefix]


def datasync_includes(prefixes: list[str], facts: TaskFacts | None) -> list[dict[str, str]]:
    """DataSync Includes for exactly these prefixes (relative to the task's locations)."""
    if prefixes == [""] or facts is None:
        return []
    for prefix in prefixes:
        if "|" in prefix or "*" in prefix or prefix.startswith("/"):
            raise InvalidInput(f"prefixes: {prefix!r} can't be expressed as a DataSync filter")
    patterns = ["/" + prefix + "*" for prefix in prefixes]
    return [{"FilterType": "SIMPLE_PATTERN", "Value": "|".join(patterns)}]
