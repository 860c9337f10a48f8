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
    """Purge one plan chunk from its offset until done or `should_stop` (checked between
    keys, so a key's entries and its current entry are always settled by one slice)."""
    run, progress = event.run, event.progress
    body = stores.s3.get_bytes(run.workspace.bucket, event.item.plan_key)
    lines = body.splitlines()
    consumed = progress.offset

    def remaining_plan() -> Iterator[PlannedEntry]:
        nonlocal consumed
        last_key = None
        for planned in decode_lines(lines[progress.offset :]):
            new_key = planned.entry.key != last_key
            if new_key and consumed > progress.offset and should_stop and should_stop():
                return
            last_key = planned.entry.key
            consumed += 1
            yield planned

    stem = event.item.plan_key.rsplit("/", 1)[-1].removesuffix(".jsonl")
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
    done = consumed >= len(lines)
    return PurgeSlice(Progress(done=done, slice=progress.slice + 1, offset=consumed), tally)
