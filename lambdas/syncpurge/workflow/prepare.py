"""Prepare: validate the request, read the task, build the run's policy (`syncpurge.core.policy`,
the same for every door), run the preflight."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from syncpurge.core.policy import Place, RunPolicy, build_policy
from syncpurge.data.aws import TaskFacts, arn_home
from syncpurge.errors import AlreadyRunning, InvalidInput, PreflightRefused
from syncpurge.models import ReconcileRequest, parse_request
from syncpurge.phases.apply import applying
from syncpurge.phases.preflight import PreflightResult, run_preflight
from syncpurge.workflow.context import (
    WORKSPACE_PREFIX,
    Location,
    RunConfig,
    RunContext,
    Stores,
    Wire,
    expect_owners,
    find_regions,
    put_json,
    stored_json,
    stored_workspace,
)


class PrepareEvent(Wire):
    request: Any = None
    config: RunConfig


def prepare(event: PrepareEvent, stores: Stores) -> dict[str, Any]:
    """Validate, build the run's policy, run the preflight; the execution's first state."""
    if not isinstance(event.request, dict):
        raise InvalidInput(f"the input must be a JSON object, got {type(event.request).__name__}")
    config = event.config
    settings = config.policy_settings()
    expect_owners(stores, config)
    request = parse_request({"mode": config.mode.value, **event.request})
    refuse_concurrent_runs(config, stores)
    facts = read_task(config, stores) if config.task_arn else None
    run_id = config.run_id
    workspace = Location(bucket=config.report_bucket, prefix=f"{WORKSPACE_PREFIX}{run_id}/")
    if request.apply_plan:
        request = stored_request(stores, workspace, request.apply_plan, request)
    policy = build_policy(settings, facts, request, run_id=run_id, workspace=place(workspace))
    report = location(policy.report)
    request = policy.request
    if policy.approval_withholds:
        request = request.model_copy(update={"dry_run": True})
    buckets = [config.source_bucket, config.target_bucket, report.bucket, workspace.bucket]
    regions = find_regions(stores, config, buckets)
    for store in stores.all_s3():
        store.place(regions)
    preflight = run_preflight(
        stores.source,
        stores.target,
        config.source_bucket,
        config.target_bucket,
        report_bucket=report.bucket,
    )
    run = run_context(
        config,
        dataclasses.replace(policy, request=request),
        facts,
        RunPlaces(report=report, workspace=workspace, regions=regions),
        preflight,
    )
    # Kept with the plan, so a later run can apply this one's plan (applyPlan).
    put_json(stores, workspace, "run.json", run.to_state())
    return {
        "run": run.to_state(),
        "sync": None,
        "error": None,
        "poll": {"seconds": run.poll_interval_seconds},
    }


@dataclass(frozen=True, slots=True)
class RunPlaces:
    """Where a run keeps its report and its workspace, and each bucket's Region."""

    report: Location
    workspace: Location
    regions: dict[str, str]


def run_context(
    config: RunConfig,
    policy: RunPolicy,
    facts: TaskFacts | None,
    places: RunPlaces,
    preflight: PreflightResult,
) -> RunContext:
    """What every later step carries: the run as its policy and its preflight decided it
    (whichever door prepared it)."""
    request = policy.request
    return RunContext(
        run_id=config.run_id,
        config=config,
        request=request,
        task_id=policy.task_id,
        report=places.report,
        workspace=places.workspace,
        skip_sync=request.skip_sync or facts is None,
        includes=datasync_includes(request.scope_prefixes(), facts),
        scope=policy.scope.describe(),
        lineage=location(policy.lineage) if policy.lineage else None,
        regions=places.regions,
        preserve_blocks_purge=policy.preserve_blocks,
        target_object_lock=preflight.target_object_lock,
        advisories=[*preflight.advisories, *policy.advisories],
        poll_interval_seconds=config.poll_interval_seconds,
        poll_ceiling_seconds=max(config.poll_ceiling_seconds, config.poll_interval_seconds),
    )


def refuse_concurrent_runs(config: RunConfig, stores: Stores) -> None:
    if stores.executions is None:
        return
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


def place(where: Location) -> Place:
    return Place(where.bucket, where.prefix)


def location(where: Place) -> Location:
    assert where.bucket is not None  # a deployment reports to S3, never to a local folder
    return Location(bucket=where.bucket, prefix=where.prefix)


def stored_request(
    stores: Stores,
    workspace: Location,
    run_id: str,
    request: ReconcileRequest,
    *,
    setting: str = "applyPlan",
) -> ReconcileRequest:
    """The request to apply an earlier run's plan with (`syncpurge.phases.apply.applying`);
    `setting` names what asked for it (the request's field, the CLI's flag)."""
    if set(run_id) <= {"."}:  # the pattern allows dots; a folder named so is none
        raise InvalidInput(f"{setting}: {run_id!r} is not a run id")
    stored = stored_workspace(workspace, run_id)
    where = stores.files.shown(stored.bucket, stored.prefix)
    doc = stored_json(stores, stored, "run.json", setting)
    if doc is None:
        raise InvalidInput(
            f"{setting}: no stored plan of run {run_id!r} at {where} (a run's plan is kept "
            "with its workspace; a deployment keeps it for its workspaceRetentionDays)"
        )
    if stored_json(stores, stored, "guard.json", setting) is None:
        raise InvalidInput(f"{setting}: run {run_id!r} never finished its plan ({where})")
    try:
        stored_request = RunContext.model_validate(doc).request
    except ValidationError as err:  # a hand edit: name the file
        raise InvalidInput(
            f"{setting}: {where}run.json is not a syncpurge plan's run "
            f"({err.error_count()} errors, the first at "
            f"{'.'.join(str(p) for p in err.errors()[0]['loc'])})"
        ) from None
    asked, planned = set(request.prefixes), set(stored_request.prefixes)
    if asked and asked != planned:
        # the plan is applied whole or not at all: never narrowed (nor widened) unseen
        covers = ", ".join(repr(p) for p in sorted(planned)) or "the whole scope"
        raise InvalidInput(
            f"{setting}: run {run_id!r}'s plan covers {covers}, and an applied plan keeps "
            "its own prefixes: apply it without naming prefixes, or plan those prefixes "
            "in a run of their own"
        )
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
    return stores.datasync.task_facts(config.task_arn)


def datasync_includes(prefixes: list[str], facts: TaskFacts | None) -> list[dict[str, str]]:
    """DataSync Includes for exactly these prefixes (relative to the task's locations)."""
    if prefixes == [""] or facts is None:
        return []
    for prefix in prefixes:
        if "|" in prefix or "*" in prefix or prefix.startswith("/"):
            raise InvalidInput(f"prefixes: {prefix!r} can't be expressed as a DataSync filter")
    patterns = ["/" + prefix + "*" for prefix in prefixes]
    return [{"FilterType": "SIMPLE_PATTERN", "Value": "|".join(patterns)}]
