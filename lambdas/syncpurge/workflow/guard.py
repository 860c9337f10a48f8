"""Guard: sum the Diff slices, refuse an unrelated source, apply the limits, decide.

A run that applies a stored plan (applyPlan) is not guarded again: the plan's own guard
figures stand, and applying the reviewed plan is the approval (`syncpurge.core.guard`)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from syncpurge.data.s3store import MAX_KEYS_PER_DELETE
from syncpurge.errors import InvalidInput
from syncpurge.models import GuardDecision
from syncpurge.phases.decision import Decision, DiffFigures, ReviewedPlan, guard_run
from syncpurge.workflow.context import (
    PLAN_CHUNK_ENTRIES,
    RunEvent,
    Stores,
    files_of,
    put_json,
    stored_json,
    stored_workspace,
    sum_json,
)


def guard(event: RunEvent, stores: Stores) -> dict[str, Any]:
    """Sum the Diff slices, check the mode and the guard, and decide whether to purge."""
    run = event.run
    figures = sum_json(stores, run.workspace, "diff-stats/")
    planned = figures.get("planned", 0)
    plan_run = run.request.apply_plan
    decision_model, decision = guard_run(
        run.request,
        DiffFigures(
            source_entries=figures.get("sourceEntries", 0),
            target_entries=figures.get("targetEntries", 0),
            keys_in_both=figures.get("keysInBoth", 0),
            planned=planned,
            skipped=figures.get("skipped", 0),
            rechecked=figures.get("recheckedPlanned", 0),
        ),
        reviewed=(lambda: ReviewedPlan(plan_run, reviewed_guard(event, stores, plan_run)))
        if plan_run
        else None,
        preserve_blocks=run.preserve_blocks_purge,
    )
    share = item_share(planned, run.config.purge_max_concurrency)
    items = purge_items(figures, share) if decision is Decision.PURGE else []
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
    """The guard the applied plan's own run decided (Prepare checked that it has one).
    A stored workspace is files a person may edit: a guard that is not the guard's
    decision, or that counted another plan than the one stored, refuses the run."""
    stored = stored_workspace(event.run.workspace, plan_run)
    doc = stored_json(stores, stored, "guard.json", "applyPlan")
    if doc is None:
        raise InvalidInput(f"applyPlan: run {plan_run!r} never finished its plan")
    shown = files_of(stores, stored).shown(stored.bucket, stored.key("guard.json"))
    try:
        reviewed = GuardDecision.model_validate(doc["guard"])
    except (ValidationError, KeyError, TypeError):
        raise InvalidInput(f"applyPlan: {shown}: its 'guard' is not the guard's decision") from None
    planned = sum_json(stores, stored, "diff-stats/").get("planned", 0)
    if reviewed.planned != planned:
        raise InvalidInput(
            f"applyPlan: {shown}: its guard counted {reviewed.planned} entries and the "
            f"plan stored beside it holds {planned}: not as a run writes them"
        )
    return reviewed


# Each purge item ends on a partly filled DeleteObjects batch: smaller items would cost
# more DeleteObjects than the plan's ceil(entries / 1,000).
MIN_ITEM_LINES = MAX_KEYS_PER_DELETE


def item_share(planned: int, concurrency: int) -> int:
    """Plan lines a purge item gathers: an equal share of the plan for each item the Purge
    Map runs at once (a purge waits on its items' verify LISTs, which they run side by
    side), at least a DeleteObjects batch (each item ends on a partly filled one), at most
    a chunk."""
    share = -(-planned // max(1, concurrency))
    return min(PLAN_CHUNK_ENTRIES, max(MIN_ITEM_LINES, share))


def purge_items(
    figures: dict[str, Any], share: int = PLAN_CHUNK_ENTRIES
) -> list[dict[str, list[str]]]:
    """Purge items over the plan chunks in key order: a chunk joins the item before it when
    a key runs across them (a long key, or a Diff slice that stopped inside one), so the
    key is purged in order, or when both together stay within `share` lines, so the many
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
        if items and (first == last_key or held + size <= share):
            items[-1]["planKeys"].append(plan_key)
            held += size
        else:
            items.append({"planKeys": [plan_key]})
            held = size
        last_key = last
    return items
