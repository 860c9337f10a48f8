"""Purge: one plan chunk, until done or near the time limit (then it returns an offset)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import Field

from syncpurge.phases.diffing import ProgressListener
from syncpurge.phases.purge import OutcomeRecord, PurgeSettings, purge_plan
from syncpurge.phases.report import BatchJournal, OutcomeTally, StoreDestination, record_to_line
from syncpurge.workflow.context import (
    RunContext,
    Stores,
    Wire,
    chunk_writer,
    place_buckets,
    put_json,
)
from syncpurge.workflow.diff import PlanReader, Progress


class PurgeItem(Wire):
    # Plan chunks in plan order; more than one when a key runs across them (Guard).
    plan_keys: list[str] = Field(min_length=1)


class PurgeItemEvent(Wire):
    run: RunContext
    item: PurgeItem
    progress: Progress = Field(default_factory=Progress)


@dataclass(slots=True)
class PurgeSlice:
    progress: Progress
    tally: OutcomeTally


def purge_item(
    event: PurgeItemEvent,
    stores: Stores,
    should_stop: Callable[[], bool] | None = None,
    progress_listener: ProgressListener | None = None,
    *,
    interrupted: Callable[[], bool] | None = None,
) -> PurgeSlice:
    """Purge an item's plan chunks from its progress until done or `should_stop` (checked
    between keys, so a key's entries and its current entry are always settled by one
    slice). Chunks are read one at a time. Once `interrupted` says yes (the CLI's Ctrl-C)
    the slice sends nothing more, accounts for what it sent, and raises PurgeStopped."""
    run, progress = event.run, event.progress
    place_buckets(stores, run)
    plan_keys = event.item.plan_keys
    reader = PlanReader(stores, run, plan_keys, progress)

    stem = plan_keys[0].rsplit("/", 1)[-1].removesuffix(".jsonl")
    # Step Functions may run a slice again (a Lambda service fault after it deleted): each
    # attempt journals under names of its own, so no retry overwrites what an earlier
    # attempt sent (invariant 8).
    attempt = secrets.token_hex(4)
    journal = BatchJournal(
        StoreDestination(stores.files, run.report.bucket, run.report.prefix),
        run.run_id,
        stem=f"{stem}-{progress.slice:05d}-{attempt}-",
    )
    name = f"{stem}-{progress.slice:05d}"
    outcomes = chunk_writer(stores, run.workspace, "outcomes", name)
    tally = OutcomeTally()

    def record(outcome: OutcomeRecord) -> None:
        line = record_to_line(outcome, run.run_id)
        tally.add(line)
        outcomes.write(line)
        if progress_listener is not None:
            progress_listener.outcome(outcome)

    try:
        purge_plan(
            (planned for key in reader.keys(should_stop) for planned in key),
            source=stores.source,
            target=stores.target,
            settings=PurgeSettings(
                target_bucket=run.config.target_bucket,
                source_bucket=run.config.source_bucket,
                bypass_governance=run.request.bypass_governance,
                target_object_lock=run.target_object_lock,
            ),
            on_outcome=record,
            journal=journal,
            should_stop=interrupted,
        )
    finally:
        # What the slice sent reaches the report whatever ended it (an error, Ctrl-C in
        # the CLI); a slice run again writes its outcomes anew, under the same names.
        outcomes.close()
        put_json(
            stores,
            run.workspace,
            f"purge-stats/{name}.json",
            {"requests": stores.requests().model_dump()},
        )
    return PurgeSlice(reader.next_progress(), tally)
