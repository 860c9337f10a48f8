"""The state machine's steps (DESIGN §6) as plain functions; handlers only parse and call.

State shape carried by the execution: {"run": RunContext, "sync": DescribeTaskExecution
output or null, "error": {"Error", "Cause"} or null}. Everything large (work items, plans,
outcomes, per-slice figures) lives in the run's workspace in S3, so no state payload grows
with the bucket.

Workspace layout (under <report bucket>/syncpurge-work/<run-id>/):
    items.json                         Diff work items (the Distributed Map's ItemReader)
    plan/<item>-<slice>-<part>.jsonl   plan chunks (syncpurge.plan codec)
    diff-stats/<item>-<slice>.json     listing figures of one Diff slice
    guard.json                         the guard's decision
    purge-items.json                   Purge work items (one per plan chunk)
    outcomes/<chunk>-<slice>-<part>.jsonl  report lines of one Purge slice
    purge-stats/<chunk>-<slice>.json   requests of one Purge slice
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from syncpurge.aws import DataSyncGateway, ExecutionsGateway, TaskFacts
from syncpurge.diff import DiffCursor, DiffPolicy, SideCursor
from syncpurge.engine import NullProgress, diff_scope, policy_for
from syncpurge.errors import AlreadyRunning, InvalidInput, PreflightRefused
from syncpurge.guard import evaluate_guard
from syncpurge.models import (
    GuardDecision,
    Mode,
    Outcome,
    PlannedEntry,
    ReconcileRequest,
    RequestCounts,
    RunStatus,
    Summary,
    SyncInfo,
    parse_request,
)
from syncpurge.plan import PlanCounts, decode_lines, encode_lines
from syncpurge.preflight import check_mode, run_preflight
from syncpurge.purge import OutcomeRecord, PurgeSettings, purge_plan, skipped_record
from syncpurge.report import (
    ENTRIES_PER_FILE,
    EntriesWriter,
    OutcomeTally,
    S3ReportDestination,
    record_to_line,
    set_totals,
    write_summary,
)
from syncpurge.s3store import S3Store

PLAN_CHUNK_ENTRIES = 50_000


class Wire(BaseModel):
    """camelCase on the wire (state JSON), snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class RunConfig(Wire):
    """Deployment facts (ASL placeholders) plus the execution's context object."""

    source_bucket: str
    target_bucket: str
    task_arn: str = ""  # "" when the deployment has no DataSync task (S3 Replication)
    report_bucket: str
    poll_interval_seconds: int = Field(default=30, ge=0)
    state_machine_arn: str
    execution_arn: str
    execution_name: str
    start_time: datetime


class Location(Wire):
    bucket: str
    prefix: str  # "" or ends with "/"

    def key(self, name: str) -> str:
        return self.prefix + name


class RunContext(Wire):
    """Prepare's result, carried by every later step."""

    run_id: str
    config: RunConfig
    request: ReconcileRequest
    task_id: str
    report: Location
    workspace: Location
    skip_sync: bool
    includes: list[dict[str, str]]
    preserve_blocks_purge: bool
    target_object_lock: bool
    etags_comparable: bool
    advisories: list[str]
    # The Wait between DescribeTaskExecution polls reads it here (SecondsPath).
    poll_interval_seconds: int

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["request"] = self.request.model_dump(mode="json", by_alias=True)
        return state


class Stores:
    """The clients one step works with; tests hand in moto-backed ones."""

    def __init__(
        self,
        s3: S3Store,
        datasync: DataSyncGateway | None = None,
        executions: ExecutionsGateway | None = None,
    ) -> None:
        self.s3 = s3
        self.datasync = datasync
        self.executions = executions


# --------------------------------------------------------------------------- Prepare


class PrepareEvent(Wire):
    request: Any = None
    config: RunConfig


def prepare(event: PrepareEvent, stores: Stores) -> dict[str, Any]:
    """Validate, run the preflight, read the task; the initial state of the execution."""
    if not isinstance(event.request, dict):
        raise InvalidInput(f"the input must be a JSON object, got {type(event.request).__name__}")
    request = parse_request(event.request)
    config = event.config
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
    preflight = run_preflight(stores.s3, stores.s3, config.source_bucket, config.target_bucket)
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
    task_id = facts.task_id if facts else "no-task"
    run_id = config.execution_name
    if facts is not None and facts.report_bucket:
        report = Location(
            bucket=facts.report_bucket,
            prefix=f"{facts.report_subdirectory}Purge-Reports/{task_id}/{run_id}/",
        )
    else:
        report = Location(bucket=config.report_bucket, prefix=f"Purge-Reports/{task_id}/{run_id}/")
    run = RunContext(
        run_id=run_id,
        config=config,
        request=request,
        task_id=task_id,
        report=report,
        workspace=Location(bucket=config.report_bucket, prefix=f"syncpurge-work/{run_id}/"),
        skip_sync=request.skip_sync or facts is None,
        includes=datasync_includes(request.scope_prefixes(), facts),
        preserve_blocks_purge=preserve_blocks,
        target_object_lock=preflight.target_object_lock,
        etags_comparable=preflight.etags_comparable,
        advisories=advisories,
        poll_interval_seconds=config.poll_interval_seconds,
    )
    return {"run": run.to_state(), "sync": None, "error": None}


def read_task(config: RunConfig, stores: Stores) -> TaskFacts:
    if stores.datasync is None:
        raise PreflightRefused("a DataSync task is configured but no DataSync client was given")
    facts = stores.datasync.task_facts(config.task_arn)
    actual = (facts.source.bucket, facts.target.bucket)
    if actual != (config.source_bucket, config.target_bucket):
        raise PreflightRefused(
            f"DataSync task {facts.task_id} copies s3://{actual[0]} to s3://{actual[1]}, not the "
            f"configured s3://{config.source_bucket} to s3://{config.target_bucket}"
        )
    if facts.source.subdirectory != facts.target.subdirectory:
        raise PreflightRefused(
            f"DataSync task {facts.task_id} maps {facts.source.subdirectory or '/'} to "
            f"{facts.target.subdirectory or '/'}: keys differ between the buckets, which "
            "syncpurge does not reconcile"
        )
    return facts


def datasync_includes(prefixes: list[str], facts: TaskFacts | None) -> list[dict[str, str]]:
    """DataSync Includes for exactly these key prefixes (relative to the task's locations)."""
    if prefixes == [""] or facts is None:
        return []
    root = facts.source.subdirectory
    patterns = []
    for prefix in prefixes:
        if root and not prefix.startswith(root):
            raise InvalidInput(
                f"prefixes: {prefix!r} is outside the DataSync task's location {root!r}"
            )
        patterns.append("/" + prefix[len(root) :] + "*")
    return [{"FilterType": "SIMPLE_PATTERN", "Value": "|".join(patterns)}]


# --------------------------------------------------------------------------- Plan


class WorkItem(Wire):
    index: int
    prefix: str
    delimiter: str | None = None
    # Entries newer than this are skipped (grace). Set when the Diff begins, after the
    # sync: in datasync mode the run owns the sync, so the markers it just wrote count.
    grace_cutoff: datetime


class RunEvent(Wire):
    run: RunContext


def plan_items(event: RunEvent, stores: Stores) -> dict[str, Any]:
    """Split the scope into Diff work items and write them for the ItemReader."""
    run = event.run
    cutoff = policy_for(run.request, datetime.now(UTC)).grace_cutoff
    assert cutoff is not None
    prefixes = run.request.scope_prefixes()
    if prefixes == [""]:
        tops: set[str] = set()
        for bucket in (run.config.source_bucket, run.config.target_bucket):
            tops.update(stores.s3.top_level_prefixes(bucket))
        scopes: list[tuple[str, str | None]] = [("", "/")] + [(p, None) for p in sorted(tops)]
    else:
        scopes = [(p, None) for p in prefixes]
    items = [
        WorkItem(index=i, prefix=prefix, delimiter=delimiter, grace_cutoff=cutoff)
        for i, (prefix, delimiter) in enumerate(scopes)
    ]
    key = run.workspace.key("items.json")
    body = json.dumps([item.to_state() for item in items]).encode()
    stores.s3.put_bytes(run.workspace.bucket, key, body, "application/json")
    _put_json(stores, run.workspace, "plan-stats.json", stores.s3.counter.snapshot().model_dump())
    return {"bucket": run.workspace.bucket, "key": key, "count": len(items)}


# --------------------------------------------------------------------------- Diff


class CursorModel(Wire):
    after_key: str
    source_exhausted: bool
    source_marker: list[str] | None = None
    target_exhausted: bool
    target_marker: list[str] | None = None

    @classmethod
    def of(cls, cursor: DiffCursor) -> CursorModel:
        return cls(
            after_key=cursor.after_key,
            source_exhausted=cursor.source.exhausted,
            source_marker=list(cursor.source.marker) if cursor.source.marker else None,
            target_exhausted=cursor.target.exhausted,
            target_marker=list(cursor.target.marker) if cursor.target.marker else None,
        )

    def to_cursor(self) -> DiffCursor:
        def side(exhausted: bool, marker: list[str] | None) -> SideCursor:
            return SideCursor(exhausted, (marker[0], marker[1]) if marker else None)

        return DiffCursor(
            self.after_key,
            side(self.source_exhausted, self.source_marker),
            side(self.target_exhausted, self.target_marker),
        )


class Progress(Wire):
    done: bool = False
    slice: int = 0
    cursor: CursorModel | None = None
    offset: int = 0


class DiffItemEvent(Wire):
    run: RunContext
    item: WorkItem
    progress: Progress = Field(default_factory=Progress)


def diff_item(
    event: DiffItemEvent, stores: Stores, should_stop: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """Diff one work item until done or `should_stop`; returns the next progress."""
    run, item, progress = event.run, event.item, event.progress
    stem = f"{item.index:05d}-{progress.slice:05d}"
    chunks = EntriesWriter(
        workspace_destination(stores, run.workspace),
        PLAN_CHUNK_ENTRIES,
        name=lambda number: f"plan/{stem}-{number:03d}.jsonl",
    )
    counts = PlanCounts()

    def on_plan(planned: PlannedEntry) -> None:
        counts.count(planned)
        for line in encode_lines((planned,)):
            chunks.write_raw(line)

    stats = diff_scope(
        source=stores.s3,
        target=stores.s3,
        source_bucket=run.config.source_bucket,
        target_bucket=run.config.target_bucket,
        prefix=item.prefix,
        delimiter=item.delimiter,
        policy=DiffPolicy(
            mode=run.request.mode,
            rules=frozenset(run.request.rules),
            grace_cutoff=item.grace_cutoff,
            etags_comparable=run.etags_comparable,
        ),
        on_plan=on_plan,
        progress=NullProgress(),
        resume=progress.cursor.to_cursor() if progress.cursor else None,
        should_stop=should_stop,
    )
    chunks.close()
    _put_json(
        stores,
        run.workspace,
        f"diff-stats/{stem}.json",
        {
            "sourceEntries": stats.source_entries,
            "targetEntries": stats.target_entries,
            "keysInBoth": stats.keys_in_both,
            "keysSharingVersionIds": stats.keys_sharing_version_ids,
            "planned": counts.planned,
            "skipped": counts.skipped,
            "planKeys": [run.workspace.key(name) for name in chunks.names],
            "requests": stores.s3.counter.snapshot().model_dump(),
        },
    )
    cursor = CursorModel.of(stats.cursor) if stats.cursor else None
    return Progress(done=cursor is None, slice=progress.slice + 1, cursor=cursor).to_state()


# --------------------------------------------------------------------------- Guard


class Decision(StrEnum):
    PURGE = "purge"
    DRY_RUN = "dry-run"
    GUARD_TRIPPED = "guard-tripped"
    PRESERVE = "preserve"
    NOTHING = "nothing"


def guard(event: RunEvent, stores: Stores) -> dict[str, Any]:
    """Sum the Diff slices, check the mode and the guard, and decide whether to purge."""
    run = event.run
    figures = _sum_json(stores, run.workspace, "diff-stats/")
    check_mode(
        run.request.mode, figures.get("keysInBoth", 0), figures.get("keysSharingVersionIds", 0)
    )
    planned = figures.get("planned", 0)
    decision_model = evaluate_guard(
        planned=planned,
        target_entries_in_scope=figures.get("targetEntries", 0),
        max_purge=run.request.max_purge,
        max_purge_fraction=run.request.max_purge_fraction,
        force=run.request.force,
    )
    if run.request.dry_run:
        decision = Decision.DRY_RUN
    elif decision_model.tripped:
        decision = Decision.GUARD_TRIPPED
    elif run.preserve_blocks_purge:
        decision = Decision.PRESERVE
    elif planned == 0 and figures.get("skipped", 0) == 0:
        decision = Decision.NOTHING
    else:
        decision = Decision.PURGE
    plan_keys = sorted(k for keys in figures.get("planKeys", []) for k in keys)
    items_key = run.workspace.key("purge-items.json")
    items = [{"planKey": key} for key in plan_keys] if decision is Decision.PURGE else []
    stores.s3.put_bytes(
        run.workspace.bucket, items_key, json.dumps(items).encode(), "application/json"
    )
    _put_json(
        stores,
        run.workspace,
        "guard.json",
        {"decision": decision.value, "guard": decision_model.model_dump(by_alias=True)},
    )
    return {
        "decision": decision.value,
        "bucket": run.workspace.bucket,
        "key": items_key,
        "count": len(items),
        "planned": planned,
    }


# --------------------------------------------------------------------------- Purge


class PurgeItem(Wire):
    plan_key: str


class PurgeItemEvent(Wire):
    run: RunContext
    item: PurgeItem
    progress: Progress = Field(default_factory=Progress)


@dataclass(slots=True)
class PurgeSlice:
    progress: Progress
    tally: OutcomeTally


def purge_item(
    event: PurgeItemEvent, stores: Stores, should_stop: Callable[[], bool] | None = None
) -> PurgeSlice:
    """Purge one plan chunk from its offset until done or `should_stop` (checked per batch)."""
    run, progress = event.run, event.progress
    body = stores.s3.get_bytes(run.workspace.bucket, event.item.plan_key)
    lines = body.splitlines()
    consumed = progress.offset

    def remaining_plan() -> Iterator[PlannedEntry]:
        nonlocal consumed
        for planned in decode_lines(lines[progress.offset :]):
            # Stop only at batch boundaries, so every started batch is finished.
            at_boundary = consumed > progress.offset and (consumed - progress.offset) % 1000 == 0
            if at_boundary and should_stop is not None and should_stop():
                return
            consumed += 1
            yield planned

    stem = event.item.plan_key.rsplit("/", 1)[-1].removesuffix(".jsonl")
    name = f"{stem}-{progress.slice:05d}"
    outcomes = EntriesWriter(
        workspace_destination(stores, run.workspace),
        PLAN_CHUNK_ENTRIES,
        name=lambda number: f"outcomes/{name}-{number:03d}.jsonl",
    )
    tally = OutcomeTally()

    def record(outcome: OutcomeRecord) -> None:
        line = record_to_line(outcome)
        tally.add(line)
        outcomes.write(line)

    purge_plan(
        remaining_plan(),
        source=stores.s3,
        target=stores.s3,
        settings=PurgeSettings(
            target_bucket=run.config.target_bucket,
            source_bucket=run.config.source_bucket,
            bypass_governance=run.request.bypass_governance,
            target_object_lock=run.target_object_lock,
        ),
        on_outcome=record,
    )
    outcomes.close()
    _put_json(
        stores,
        run.workspace,
        f"purge-stats/{name}.json",
        {"requests": stores.s3.counter.snapshot().model_dump()},
    )
    done = consumed >= len(lines)
    return PurgeSlice(Progress(done=done, slice=progress.slice + 1, offset=consumed), tally)


# --------------------------------------------------------------------------- Report


class FailureInfo(BaseModel):
    model_config = ConfigDict(extra="allow")

    Error: str = "States.Runtime"
    Cause: str | None = None


class ReportEvent(Wire):
    run: RunContext | None = None
    config: RunConfig | None = None
    raw_request: Any = None
    sync: dict[str, Any] | None = None
    error: FailureInfo | None = None


def report(event: ReportEvent, stores: Stores) -> dict[str, Any]:
    """Write summary.json and the entries files; always runs, success or failure."""
    run = event.run
    error = describe_failure(event.error, event.sync) if event.error else None
    if run is None:
        return _report_without_run(event, stores, error)
    figures = _sum_json(stores, run.workspace, "diff-stats/")
    guard_doc = _get_json(stores, run.workspace, "guard.json")
    summary = Summary(
        run_id=run.run_id,
        status=RunStatus.FAILED,
        mode=run.request.mode,
        dry_run=run.request.dry_run,
        source_bucket=run.config.source_bucket,
        target_bucket=run.config.target_bucket,
        prefixes=run.request.scope_prefixes(),
        sync=sync_info(event.sync),
        advisories=run.advisories,
        started_at=run.config.start_time,
    )
    destination = S3ReportDestination(stores.s3, run.report.bucket, run.report.prefix)
    writer = EntriesWriter(destination, ENTRIES_PER_FILE)
    tally = OutcomeTally()
    decision = guard_doc.get("decision") if guard_doc else None
    if decision == Decision.PURGE:
        for key in stores.s3.list_keys(run.workspace.bucket, run.workspace.key("outcomes/")):
            for raw in stores.s3.get_bytes(run.workspace.bucket, key).splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    writer.write(line)
                    tally.add(line)
    elif guard_doc is not None:
        plan_keys = sorted(k for keys in figures.get("planKeys", []) for k in keys)
        for key in plan_keys:
            body = stores.s3.get_bytes(run.workspace.bucket, key)
            for planned in decode_lines(body.splitlines()):
                record = (
                    OutcomeRecord(planned, Outcome.PLANNED, planned.detail)
                    if planned.to_purge
                    else skipped_record(planned)
                )
                line = record_to_line(record)
                writer.write(line)
                tally.add(line)
    writer.close()
    set_totals(
        summary,
        source_entries=figures.get("sourceEntries", 0),
        target_entries=figures.get("targetEntries", 0),
        planned=figures.get("planned", 0),
        tally=tally,
    )
    if guard_doc is not None:
        summary.guard = GuardDecision.model_validate(guard_doc["guard"])
    summary.requests = _requests(figures, stores, run)
    summary.status, summary.error = final_status(error, decision, tally)
    summary.finished_at = datetime.now(UTC)
    write_summary(destination, summary)
    return {
        "status": summary.status.value,
        "report": f"s3://{run.report.bucket}/{run.report.prefix}",
        "summary": summary.to_document(),
        "failure": {"error": error[0], "cause": error[1]} if error else None,
    }


def final_status(
    error: tuple[str, str] | None, decision: str | None, tally: OutcomeTally
) -> tuple[RunStatus, str | None]:
    if error is not None:
        return RunStatus.FAILED, f"{error[0]}: {error[1]}"
    if decision == Decision.GUARD_TRIPPED:
        return RunStatus.GUARD_TRIPPED, None
    if decision in (Decision.DRY_RUN, Decision.PRESERVE):
        return RunStatus.DRY_RUN, None
    if tally.totals.failed:
        return RunStatus.FAILED, f"{tally.totals.failed} entries failed to delete; see entries"
    return RunStatus.SUCCEEDED, None


def describe_failure(failure: FailureInfo, sync: dict[str, Any] | None) -> tuple[str, str]:
    """(error, cause) a person can act on, from a Catch's {Error, Cause}."""
    cause = failure.Cause or ""
    try:
        parsed = json.loads(cause)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        cause = str(parsed["errorMessage"])
    if failure.Error == "DataSyncExecutionFailed" and sync:
        result = sync.get("Result") or {}
        cause = (
            f"DataSync task execution {sync.get('TaskExecutionArn')} ended {sync.get('Status')}: "
            f"{result.get('ErrorCode', 'unknown error')} {result.get('ErrorDetail', '')}".strip()
            + "; nothing was purged"
        )
    cause = cause or "no cause given"
    if failure.Error.startswith("States."):
        # A Fail state may not raise the reserved States.* names; keep it in the cause.
        return "RunFailed", f"{failure.Error}: {cause}"
    return failure.Error, cause


def sync_info(sync: dict[str, Any] | None) -> SyncInfo | None:
    if not sync or "TaskExecutionArn" not in sync:
        return None
    counters = {k: v for k, v in sync.items() if k not in ("TaskExecutionArn", "Status")}
    return SyncInfo(
        execution_arn=sync["TaskExecutionArn"], status=sync.get("Status", ""), result=counters
    )


def _report_without_run(
    event: ReportEvent, stores: Stores, error: tuple[str, str] | None
) -> dict[str, Any]:
    """Prepare failed: a FAILED summary in the configured report bucket."""
    config = event.config
    if config is None:
        raise InvalidInput("report: neither the run nor the deployment config was given")
    task_id = config.task_arn.rsplit("/", 1)[-1] if config.task_arn else "no-task"
    location = Location(
        bucket=config.report_bucket,
        prefix=f"Purge-Reports/{task_id}/{config.execution_name}/",
    )
    raw = event.raw_request if isinstance(event.raw_request, dict) else {}
    summary = Summary(
        run_id=config.execution_name,
        status=RunStatus.FAILED,
        mode=Mode(raw["mode"]) if raw.get("mode") in ("datasync", "replication") else Mode.DATASYNC,
        dry_run=raw.get("dryRun") is True,
        source_bucket=config.source_bucket,
        target_bucket=config.target_bucket,
        prefixes=[p for p in raw.get("prefixes", []) if isinstance(p, str)]
        if isinstance(raw.get("prefixes"), list)
        else [],
        started_at=config.start_time,
        finished_at=datetime.now(UTC),
        error=f"{error[0]}: {error[1]}" if error else "prepare failed",
    )
    write_summary(S3ReportDestination(stores.s3, location.bucket, location.prefix), summary)
    return {
        "status": summary.status.value,
        "report": f"s3://{location.bucket}/{location.prefix}",
        "summary": summary.to_document(),
        "failure": {"error": error[0], "cause": error[1]} if error else None,
    }


def _requests(figures: dict[str, Any], stores: Stores, run: RunContext) -> RequestCounts:
    total = RequestCounts()
    docs = [figures.get("requests", {})]
    docs += [d.get("requests", {}) for d in _all_json(stores, run.workspace, "purge-stats/")]
    plan_doc = _get_json(stores, run.workspace, "plan-stats.json") or {}
    docs.append(plan_doc)
    for doc in docs:
        total.list += int(doc.get("list", 0))
        total.delete += int(doc.get("delete", 0))
        total.verify += int(doc.get("verify", 0))
    return total


# --------------------------------------------------------------------------- workspace JSON


def workspace_destination(stores: Stores, workspace: Location) -> S3ReportDestination:
    return S3ReportDestination(stores.s3, workspace.bucket, workspace.prefix)


def _put_json(stores: Stores, workspace: Location, name: str, doc: Any) -> None:
    body = json.dumps(doc).encode()
    stores.s3.put_bytes(workspace.bucket, workspace.key(name), body, "application/json")


def _get_json(stores: Stores, workspace: Location, name: str) -> Any:
    body = stores.s3.get_bytes_or_none(workspace.bucket, workspace.key(name))
    return None if body is None else json.loads(body)


def _all_json(stores: Stores, workspace: Location, folder: str) -> list[dict[str, Any]]:
    keys = stores.s3.list_keys(workspace.bucket, workspace.key(folder))
    return [json.loads(stores.s3.get_bytes(workspace.bucket, key)) for key in keys]


def _sum_json(stores: Stores, workspace: Location, folder: str) -> dict[str, Any]:
    """Sum numeric fields of every JSON object in a workspace folder; lists are gathered."""
    total: dict[str, Any] = {}
    for doc in _all_json(stores, workspace, folder):
        for name, value in doc.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                total[name] = total.get(name, 0) + value
            elif isinstance(value, list):
                total.setdefault(name, []).append(value)
            elif isinstance(value, dict):
                bucket = total.setdefault(name, {})
                for k, v in value.items():
                    bucket[k] = bucket.get(k, 0) + int(v)
    return total
