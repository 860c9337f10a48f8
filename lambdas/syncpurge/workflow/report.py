"""Report: summary.json and the entries files; runs on success and on every failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from syncpurge.core.lineage import doubted_advisory, stray_files_advisory
from syncpurge.core.plan import decode_lines
from syncpurge.errors import InvalidInput
from syncpurge.models import GuardDecision, Mode, Outcome, RunStatus
from syncpurge.phases.decision import Decision, final_status
from syncpurge.phases.diffing import ProgressListener
from syncpurge.phases.purge import unpurged_record
from syncpurge.phases.report import (
    ENTRIES_PER_FILE,
    EntriesWriter,
    OutcomeTally,
    StoreDestination,
    record_to_line,
    set_totals,
    write_summary,
)
from syncpurge.summary import DiffWaves, RequestCounts, Summary, SyncInfo
from syncpurge.workflow.context import (
    Location,
    RunConfig,
    RunContext,
    Stores,
    Wire,
    all_json,
    get_json,
    place_buckets,
    sum_json,
)
from syncpurge.workflow.notify import notify
from syncpurge.workflow.ranges import point_at_this_run
from syncpurge.workflow.recut import recut_summary
from syncpurge.workflow.verdict import record_verdict


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


def report(
    event: ReportEvent, stores: Stores, progress_listener: ProgressListener | None = None
) -> dict[str, Any]:
    """Write summary.json and the entries files; always runs, success or failure. A
    driver that shows the run live is told each planned entry the run left in place."""
    run = event.run
    if run is not None:
        place_buckets(stores, run)
    error = describe_failure(event.error, event.sync) if event.error else None
    if run is None:
        return _report_without_run(event, stores, error)
    figures = sum_json(stores, run.workspace, "diff-stats/")
    guard_doc = get_json(stores, run.workspace, "guard.json")
    summary = Summary.begun(
        run.request,
        run_id=run.run_id,
        source_bucket=run.config.source_bucket,
        target_bucket=run.config.target_bucket,
        source_region=stores.source.region(run.config.source_bucket),
        target_region=stores.target.region(run.config.target_bucket),
        scope=run.scope,
        started_at=run.config.start_time,
    )
    summary.sync = sync_info(event.sync)
    plan_doc = get_json(stores, run.workspace, "plan-stats.json") or {}
    summary.advisories = [*run.advisories, *plan_advisories(plan_doc), *diff_advisories(figures)]
    destination = StoreDestination(stores.files, run.report.bucket, run.report.prefix)
    writer = EntriesWriter(destination, ENTRIES_PER_FILE)
    tally = OutcomeTally()
    decision = guard_doc.get("decision") if guard_doc else None
    if decision == Decision.PURGE:
        for line in purge_lines(stores, run):
            writer.write(line)
            tally.add(line)
    elif guard_doc is not None:
        plan_keys = sorted(k for keys in figures.get("planKeys", []) for k in keys)
        for key in plan_keys:
            body = stores.files.get_bytes(run.workspace.bucket, key)
            for planned in decode_lines(body.splitlines()):
                record = unpurged_record(planned)
                line = record_to_line(record, run.run_id)
                writer.write(line)
                tally.add(line)
                if progress_listener is not None:
                    progress_listener.outcome(record)
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
    summary.requests = _requests(figures, plan_doc, stores, run)
    if guard_doc is not None:
        summary.recut = DiffWaves.model_validate(recut_summary(stores, run))
    summary.status, summary.error = final_status(error, decision, tally)
    summary.finished_at = datetime.now(UTC)
    write_summary(destination, summary)
    record_verdict(stores, run, error, guard_reached=guard_doc is not None)
    if guard_doc is not None and not run.request.apply_plan:
        point_at_this_run(stores, run)  # every Diff item listed its range to the end
    location = f"s3://{run.report.bucket}/{run.report.prefix}"
    notify(stores, run.config, summary, location)
    return {
        "status": summary.status.value,
        "report": location,
        "summary": summary.to_document(),
        "failure": {"error": error[0], "cause": error[1]} if error else None,
    }


def purge_lines(stores: Stores, run: RunContext) -> Iterator[dict[str, Any]]:
    """Each Purge slice's outcome lines; then, for each entry its journal holds and its
    outcomes don't (a slice that died after sending a batch, or could not write its
    outcomes), a `failed` / `no-answer` line naming the journal file: every delete sent is
    in the report (invariant 8). A slice at a time: what one holds in memory is bounded."""
    files, workspace, folder = stores.files, run.workspace, run.report
    outcomes = by_slice(files.list_keys(workspace.bucket, workspace.key("outcomes/")), 1)
    journals = by_slice(files.list_keys(folder.bucket, folder.key("journal/")), 2)
    for name in sorted(outcomes.keys() | journals.keys()):
        seen: set[tuple[str, str]] = set()
        for key in outcomes.get(name, []):
            for raw in files.get_bytes(workspace.bucket, key).splitlines():
                if raw.strip():
                    line = json.loads(raw)
                    seen.add((line["key"], line["versionId"]))
                    yield line
        for key in journals.get(name, []):
            for raw in files.get_bytes(folder.bucket, key).splitlines():
                sent = json.loads(raw) if raw.strip() else None
                if sent is not None and (sent["key"], sent["versionId"]) not in seen:
                    seen.add((sent["key"], sent["versionId"]))
                    yield unanswered(sent, key.removeprefix(folder.prefix), run.run_id)


def by_slice(keys: list[str], suffix_parts: int) -> dict[str, list[str]]:
    """Files by the Purge slice that wrote them: `<chunk>-<slice>` before the last
    `suffix_parts` dash-separated parts of the name (an outcomes file's number; a journal
    file's attempt and batch number)."""
    found: dict[str, list[str]] = {}
    for key in keys:
        name = key.rsplit("/", 1)[-1].rsplit("-", suffix_parts)[0]
        found.setdefault(name, []).append(key)
    return found


def unanswered(sent: dict[str, Any], journal: str, run_id: str) -> dict[str, Any]:
    """The report line of a journaled entry whose outcome was never recorded."""
    return {
        "runId": run_id,
        "key": sent["key"],
        "versionId": sent["versionId"],
        "isDeleteMarker": sent["isDeleteMarker"],
        "rule": sent["rule"],
        "proof": None,
        "outcome": Outcome.FAILED.value,
        "reason": "no-answer",
        "size": sent.get("size"),
        "lastModified": sent.get("lastModified") or "",
        "error": f"sent in the batch {journal} and no outcome was recorded: S3 may or may "
        "not have deleted it",
    }


def plan_advisories(plan_doc: dict[str, Any]) -> list[str]:
    strays = int(plan_doc.get("lineageStrayFiles", 0))
    return [stray_files_advisory(strays)] if strays else []


def diff_advisories(figures: dict[str, Any]) -> list[str]:
    doubted = int(figures.get("lineageDoubtedKeys", 0))
    return [doubted_advisory(doubted)] if doubted else []


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
        prefix=f"Purge-Reports/{task_id}/{config.run_id}/",
    )
    raw = event.raw_request if isinstance(event.raw_request, dict) else {}
    summary = Summary(
        run_id=config.run_id,
        status=RunStatus.FAILED,
        mode=Mode(raw["mode"]) if raw.get("mode") in ("datasync", "replication") else config.mode,
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
    write_summary(StoreDestination(stores.files, location.bucket, location.prefix), summary)
    notify(stores, config, summary, f"s3://{location.bucket}/{location.prefix}")
    return {
        "status": summary.status.value,
        "report": f"s3://{location.bucket}/{location.prefix}",
        "summary": summary.to_document(),
        "failure": {"error": error[0], "cause": error[1]} if error else None,
    }


def _requests(
    figures: dict[str, Any], plan_doc: dict[str, Any], stores: Stores, run: RunContext
) -> RequestCounts:
    total = RequestCounts()
    docs = [figures.get("requests", {})]
    docs += [d.get("requests", {}) for d in all_json(stores, run.workspace, "purge-stats/")]
    docs.append(plan_doc)
    for doc in docs:
        total.list += int(doc.get("list", 0))
        total.delete += int(doc.get("delete", 0))
        total.verify += int(doc.get("verify", 0))
        total.head += int(doc.get("head", 0))
    return total
