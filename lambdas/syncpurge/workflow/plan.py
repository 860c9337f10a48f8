"""Plan: split the scope into Diff work items, and file the task's lineage per item."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from syncpurge.engine import policy_for
from syncpurge.lineage import origin_to_json, read_task_reports
from syncpurge.report import EntriesWriter
from syncpurge.workflow.context import (
    RunEvent,
    Stores,
    Wire,
    put_json,
    stored_workspace,
    sum_json,
    workspace_destination,
)
from syncpurge.workflow.guard import purge_items


class WorkItem(Wire):
    index: int
    prefix: str
    delimiter: str | None = None
    # Entries newer than this are skipped (grace). Set when the Diff begins, after the
    # sync: in datasync mode the run owns the sync, so the markers it just wrote count.
    grace_cutoff: datetime
    # applyPlan: the stored plan chunks this item re-checks, instead of a listing to diff.
    apply_chunks: list[str] = Field(default_factory=list)


def plan_items(event: RunEvent, stores: Stores) -> dict[str, Any]:
    """Split the scope into Diff work items and write them for the ItemReader."""
    run = event.run
    cutoff = policy_for(run.request, datetime.now(UTC)).grace_cutoff
    assert cutoff is not None
    if run.request.apply_plan:
        return apply_items(event, stores, cutoff)
    scope = run.scope_model
    prefixes = run.request.scope_prefixes()
    if prefixes == [""]:
        tops: set[str] = set()
        for bucket, root in (
            (run.config.source_bucket, scope.source_root),
            (run.config.target_bucket, scope.target_root),
        ):
            tops.update(p[len(root) :] for p in stores.s3.top_level_prefixes(bucket, root))
        tops = {p for p in tops if not any(p.startswith(x) for x in scope.excluded_relative)}
        scopes: list[tuple[str, str | None]] = [("", "/")] + [(p, None) for p in sorted(tops)]
    else:
        scopes = [(p, None) for p in prefixes]
    items = [
        WorkItem(index=i, prefix=prefix, delimiter=delimiter, grace_cutoff=cutoff)
        for i, (prefix, delimiter) in enumerate(scopes)
    ]
    if run.lineage is not None:
        file_lineage(event, stores, scopes)
    key = run.workspace.key("items.json")
    body = json.dumps([item.to_state() for item in items]).encode()
    stores.s3.put_bytes(run.workspace.bucket, key, body, "application/json")
    put_json(stores, run.workspace, "plan-stats.json", stores.s3.counter.snapshot().model_dump())
    return {"bucket": run.workspace.bucket, "key": key, "count": len(items)}


def apply_items(event: RunEvent, stores: Stores, cutoff: datetime) -> dict[str, Any]:
    """applyPlan: one work item per purge item of the stored plan (a key's chunks together),
    and the stored run's listing figures, which the guard and the report count from."""
    run = event.run
    stored = stored_workspace(run.workspace, run.request.apply_plan or "")
    figures = sum_json(stores, stored, "diff-stats/")
    items = [
        WorkItem(index=i, prefix="", grace_cutoff=cutoff, apply_chunks=chain["planKeys"])
        for i, chain in enumerate(purge_items(figures))
    ]
    listing = {
        name: figures.get(name, 0) for name in ("sourceEntries", "targetEntries", "keysInBoth")
    }
    put_json(stores, run.workspace, "diff-stats/stored-plan.json", listing)
    key = run.workspace.key("items.json")
    body = json.dumps([item.to_state() for item in items]).encode()
    stores.s3.put_bytes(run.workspace.bucket, key, body, "application/json")
    return {"bucket": run.workspace.bucket, "key": key, "count": len(items)}


def item_of(relative_key: str, scopes: list[tuple[str, str | None]]) -> int | None:
    """The work item whose listing holds `relative_key` (None: no item lists it)."""
    for index, (prefix, delimiter) in enumerate(scopes):
        rest = relative_key[len(prefix) :]
        if relative_key.startswith(prefix) and not (delimiter and delimiter in rest):
            return index
    return None


def file_lineage(event: RunEvent, stores: Stores, scopes: list[tuple[str, str | None]]) -> None:
    """Read the task's transferred reports once; write each item's records beside it."""
    run = event.run
    assert run.lineage is not None
    writers: dict[int, EntriesWriter] = {}
    for version_id, origin in read_task_reports(stores.s3, run.lineage.bucket, run.lineage.prefix):
        index = item_of(origin.relative_key, scopes)
        if index is None:
            continue
        if index not in writers:
            writers[index] = EntriesWriter(
                workspace_destination(stores, run.workspace),
                per_file=10**12,
                name=lambda _n, i=index: lineage_name(i),  # type: ignore[misc]
            )
        writers[index].write(origin_to_json(version_id, origin))
    for writer in writers.values():
        writer.close()


def lineage_name(index: int) -> str:
    return f"lineage/{index:05d}.jsonl"
