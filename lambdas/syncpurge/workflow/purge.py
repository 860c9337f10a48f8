"""Purge: one plan chunk, until done or near the time limit (then it returns an offset)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import Field

from syncpurge.models import PlannedEntry
from syncpurge.plan import decode_lines
from syncpurge.purge import OutcomeRecord, PurgeSettings, purge_plan
from syncpurge.report import BatchJournal, OutcomeTally, S3ReportDestination, record_to_line
from syncpurge.workflow.context import (
    RunContext,
    Stores,
    Wire,
    chunk_writer,
    put_json,
)
from syncpurge.workflow.diff import Progress


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
    event: PurgeItemEvent, stores: Stores, should_stop: Callable[[], bool] | None = None
) -> PurgeSlice:
    """Purge an item's plan chunks from its progress until done or `should_stop` (checked
    between keys, so a key's entries and its current entry are always settled by one
    slice). Chunks are read one at a time."""
    run, progress = event.run, event.progress
    plan_keys = event.item.plan_keys
    position = [progress.chunk, progress.offset]  # where the next slice starts

    def remaining_plan() -> Iterator[PlannedEntry]:
        last_key = None
        for chunk in range(progress.chunk, len(plan_keys)):
            body = stores.s3.get_bytes(run.workspace.bucket, plan_keys[chunk])
            start = progress.offset if chunk == progress.chunk else 0
            for line, planned in enumerate(decode_lines(body.splitlines()[start:]), start):
                new_key = planned.entry.key != last_key
                if new_key and last_key is not None and should_stop and should_stop():
                    return
                last_key = planned.entry.key
                position[:] = [chunk, line + 1]
                yield planned
        position[:] = [len(plan_keys), 0]

    stem = plan_keys[0].rsplit("/", 1)[-1].removesuffix(".jsonl")
    journal = BatchJournal(
        S3ReportDestination(stores.s3, run.report.bucket, run.report.prefix),
        run.run_id,
        stem=f"{stem}-{progress.slice:05d}-",
    )
    name = f"{stem}-{progress.slice:05d}"
    outcomes = chunk_writer(stores, run.workspace, "outcomes", name)
    tally = OutcomeTally()

    def record(outcome: OutcomeRecord) -> None:
        line = record_to_line(outcome, run.run_id)
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
        journal=journal,
    )
    outcomes.close()
    put_json(
        stores,
        run.workspace,
        f"purge-stats/{name}.json",
        {"requests": stores.s3.counter.snapshot().model_dump()},
    )
    chunk, offset = position
    done = chunk >= len(plan_keys)
    next_progress = Progress(done=done, slice=progress.slice + 1, chunk=chunk, offset=offset)
    return PurgeSlice(next_progress, tally)
