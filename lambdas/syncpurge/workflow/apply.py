"""Diff, for a run that applies an earlier run's plan: re-check the stored plan chunks,
key by key, into this run's plan (`syncpurge.apply`); near the time limit it returns the
chunk and line to go on from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any

from syncpurge.apply import fresh_plan, recheck
from syncpurge.models import PlannedEntry
from syncpurge.plan import decode_lines
from syncpurge.rules import DiffPolicy
from syncpurge.workflow.context import Stores
from syncpurge.workflow.diff import DiffItemEvent, PlanChunks, Progress, diff_item


def diff_step(
    event: DiffItemEvent, stores: Stores, should_stop: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """The Diff step: diff the item's listings, or re-check the stored plan it carries."""
    if event.item.apply_chunks:
        return apply_item(event, stores, should_stop)
    return diff_item(event, stores, should_stop)


def apply_item(
    event: DiffItemEvent, stores: Stores, should_stop: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """Re-check the item's stored plan chunks from its progress, a key at a time."""
    run, item, progress = event.run, event.item, event.progress
    chunks = item.apply_chunks
    position = [progress.chunk, progress.offset]
    plan = PlanChunks(stores, run, f"{item.index:05d}-{progress.slice:05d}")
    stored_counts = {"planned": 0, "skipped": 0}

    def stored_keys() -> Iterator[list[tuple[int, int, PlannedEntry]]]:
        """The stored plan's entries, one key's at a time, with where each came from."""

        def lines() -> Iterator[tuple[int, int, PlannedEntry]]:
            for chunk in range(progress.chunk, len(chunks)):
                body = stores.s3.get_bytes(run.workspace.bucket, chunks[chunk])
                start = progress.offset if chunk == progress.chunk else 0
                for line, planned in enumerate(decode_lines(body.splitlines()[start:]), start):
                    yield chunk, line, planned

        for _, group in groupby(lines(), key=lambda placed: placed[2].entry.key):
            yield list(group)

    policy = DiffPolicy(
        mode=run.request.mode, rules=frozenset(run.request.rules), grace_cutoff=item.grace_cutoff
    )
    fresh = fresh_plan(
        source=stores.s3,
        target=stores.s3,
        source_bucket=run.config.source_bucket,
        target_bucket=run.config.target_bucket,
        policy=policy,
        scope=run.scope_model,
    )
    done = True
    for index, placed in enumerate(stored_keys()):
        if index and should_stop is not None and should_stop():
            done = False
            break
        stored = [planned for _, _, planned in placed]
        for planned in stored:
            stored_counts["planned" if planned.to_purge else "skipped"] += 1
        for planned in recheck(stored, fresh):
            plan.write(planned)
        chunk, line, _ = placed[-1]
        position[:] = [chunk, line + 1]
    # The guard applies to the plan as stored: its counts, not the re-checked ones.
    plan.close(**stored_counts)
    if done:
        position[:] = [len(chunks), 0]
    chunk, offset = position
    return Progress(done=done, slice=progress.slice + 1, chunk=chunk, offset=offset).to_state()
