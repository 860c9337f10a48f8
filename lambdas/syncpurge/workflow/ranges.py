"""Key-range work items: where Plan cuts each prefix, and what Diff notes for next time.

A first run cuts by probes (`syncpurge.phases.cutting`) on the target; every Diff
slice notes a key every `sample_every` entries per side (`boundaries/<item>-<slice>.json`
in the run's workspace); Report points the deployment at a run whose listing finished
(`syncpurge-work/boundaries/<scope id>.json`), and the next run's Plan cuts on those
samples, in smaller and more even items.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from syncpurge.core.keyspace import split_by_samples
from syncpurge.models import KeyHistory
from syncpurge.phases.cutting import KEY_SPACE_END, items_for
from syncpurge.workflow.context import (
    Location,
    RunContext,
    Stores,
    all_json,
    get_json,
    put_json,
    stored_workspace,
    workspace_root,
)

# Entries per item of a run cut on recorded samples (both sides' counts, exact).
RECORDED_ENTRIES = 64_000
# Samples per item: enough for the next run to cut an item into ~100 exact parts.
SAMPLES_PER_ITEM = 200
MIN_SAMPLE_EVERY = 500
# ... and never coarser than this, whatever a first run's estimate says: 2 x 10^5
# samples at 10^9 entries a side.
MAX_SAMPLE_EVERY = 10_000


def sample_every(item_entries: float) -> int:
    return min(MAX_SAMPLE_EVERY, max(MIN_SAMPLE_EVERY, int(item_entries / SAMPLES_PER_ITEM)))


class Sampler:
    """Notes, per side, a key every `every` entries (at a key's end) with the entries
    since the last note; what is left over is noted at the slice's end."""

    def __init__(self, every: int, up_to: str | None = None) -> None:
        self.every, self.up_to = every, up_to
        self.samples: list[tuple[str, int]] = []
        self._since = {"source": 0, "target": 0}

    def wrap(self, side: str, histories: Iterator[KeyHistory]) -> Iterator[KeyHistory]:
        every, since = self.every, 0
        try:
            for history in histories:
                if self.up_to is not None and history.key > self.up_to:
                    yield history  # the source's look past the range: not the item's
                    continue
                since += len(history.entries)
                if since >= every and history.last:
                    self.samples.append((history.key, since))
                    since = 0
                yield history
        finally:
            self._since[side] = since

    def close(self, end: str | None) -> list[list[Any]]:
        """The samples, with the leftovers noted at `end` (None: the key space's end)."""
        tail = sum(self._since.values())
        if tail:
            self.samples.append((end if end is not None else KEY_SPACE_END, tail))
        return [[key, weight] for key, weight in self.samples]


def scope_id(run: RunContext) -> str:
    """Runs of one deployment over the same scope and prefixes share recorded boundaries."""
    doc = {
        "target": run.config.target_bucket,
        "scope": run.scope,
        "prefixes": run.request.scope_prefixes(),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def _pointer(run: RunContext) -> Location:
    root = workspace_root(run.workspace)
    return Location(bucket=root.bucket, prefix=f"{root.prefix}boundaries/")


def point_at_this_run(stores: Stores, run: RunContext) -> None:
    """Report: this run's listing finished, so its samples cut the next run."""
    put_json(stores, _pointer(run), f"{scope_id(run)}.json", {"runId": run.run_id})


def recorded_samples(stores: Stores, run: RunContext) -> dict[str, list[tuple[str, int]]]:
    """The samples of the last run that finished listing this scope, by prefix ({}: none)."""
    pointer = get_json(stores, _pointer(run), f"{scope_id(run)}.json")
    if not pointer:
        return {}
    stored = stored_workspace(run.workspace, pointer["runId"])
    by_prefix: dict[str, list[tuple[str, int]]] = {}
    for doc in all_json(stores, stored, "boundaries/"):
        by_prefix.setdefault(doc["prefix"], []).extend(
            (str(key), int(weight)) for key, weight in doc["samples"]
        )
    return by_prefix


def recorded_boundaries(samples: list[tuple[str, int]], max_items: int) -> tuple[list[str], float]:
    total = sum(weight for _, weight in samples)
    items = items_for(total, RECORDED_ENTRIES, max_items)
    cuts = [key for key in split_by_samples(samples, items) if key < KEY_SPACE_END]
    return cuts, total / items
