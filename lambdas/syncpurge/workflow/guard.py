"""Guard: sum the Diff slices, refuse an unrelated source, apply the limits, decide.

A run that applies a stored plan (applyPlan) is not guarded again: the plan's own guard
figures stand, and applying the reviewed plan is the approval (`syncpurge.core.guard`)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from syncpurge.core.guard import applied_plan_guard, evaluate_guard
from syncpurge.errors import InvalidInput
from syncpurge.models import GuardDecision
from syncpurge.phases.preflight import check_related
from syncpurge.workflow.context import (
    PLAN_CHUNK_ENTRIES,
    RunEvent,
    Stores,
    get_json,
    put_json,
    stored_workspace,
    sum_json,
)


class Decision(StrEnum):
    PURGE = "purge"
    DRY_RUN = "dry-run"
    GUARD_TRIPPED = "guard-tripped"
    PRESERVE = "preserve"
    NOTHING = "nothing"


def guard(event: RunEvent, stores: Stores) -> dict[str, Any]:
    """Sum the Diff slices, check the mode and the guard, and decide whether to purge."""
    run = event.run
    figures = sum_json(stores, run.workspace, "diff-stats/")
    check_related(
        source_entries=figures.get("sourceEntries", 0),
        target_entries=figures.get("targetEntries", 0),
        keys_in_both=figures.get("keysInBoth", 0),
        allow_unrelated=run.request.allow_unrelated_source,
    )
    planned = figures.get("planned", 0)
    if run.request.apply_plan:
        decision_model = applied_plan_guard(
            reviewed_guard(event, stores, run.request.apply_plan),
            rechecked=figures.get("recheckedPlanned", 0),
            plan_run=run.request.apply_plan,
        )
    else:
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
    items = purge_items(figures) if decision is Decision.PURGE else []
    put_json(stores, run.workspace, "purge-items.json", items)
    put_json(
        stores,
        run.workspace,
        "guard.json",
        {"decision": decision.value, "guard": decision_model.model_dump(by_alias=True)},
    )
    return {
        "decision": decision.value,
        "bucket": run.workspace.bucket,
        "key": run.workspace.key("purge-items.json"),
        "count": len(items),
        "planned": planned,
    }


def reviewed_guard(event: RunEvent, stores: Stores, plan_run: str) -> GuardDecision:
    """The guard the applied plan's own run decided (Prepare checked that it has one)."""
    doc = get_json(stores, stored_workspace(event.run.workspace, plan_run), "guard.json")
    if doc is None:
        raise InvalidInput(f"applyPlan: run {plan_run!r} never finished its plan")
    return GuardDecision.model_validate(doc["guard"])


def purge_items(figures: dict[str, Any]) -> list[dict[str, list[str]]]:
    """Purge items over the plan chunks in key order: a chunk joins the item before it when
    a key runs across them (a long key, or a Diff slice that stopped inside one), so the
    key is purged in order, or when both together stay within a chunk's size, so the many
    small chunks of key-range Diff items still make full DeleteObjects batches."""
    spans: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for keys, chunk_spans, chunk_lines in zip(
        figures.get("planKeys", []),
        figures.get("chunkSpans", []),
        # plans stored before chunks were counted: each chunk counts as full
        figures.get("chunkLines")
        or [[PLAN_CHUNK_ENTRIES] * len(k) for k in figures.get("planKeys", [])],
        strict=True,
    ):
        spans.update(zip(keys, chunk_spans, strict=True))
        lines.update(zip(keys, chunk_lines, strict=True))
    items: list[dict[str, list[str]]] = []
    last_key, held = None, 0
    for plan_key in sorted(spans):
        first, last = spans[plan_key]
        size = lines[plan_key]
        if items and (first == last_key or held + size <= PLAN_CHUNK_ENTRIES):
            items[-1]["planKeys"].append(plan_key)
            held += size
        else:
            items.append({"planKeys": [plan_key]})
            held = size
        last_key = last
    return items
