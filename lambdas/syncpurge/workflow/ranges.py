"""Key-range work items: where Plan cuts each prefix, and what Diff notes for next time.

A first run cuts by probes (`syncpurge.core.probes.ProbeSplitter`) on the target; every Diff
slice notes a key every `sample_every` entries per side (`boundaries/<item>-<slice>.json`
in the run's workspace); Report points the deployment at a run whose listing finished
(`syncpurge-work/boundaries/<scope id>.json`), and the next run's Plan cuts on those
samples, in smaller and more even items.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from syncpurge.core.keyspace import split_by_samples
from syncpurge.core.probes import Probe, ProbeSplitter
from syncpurge.data.s3store import S3Store
from syncpurge.models import KeyHistory
from syncpurge.workflow.context import (
    WORKSPACE_PREFIX,
    Location,
    RunContext,
    Stores,
    all_json,
    get_json,
    put_json,
    stored_workspace,
)

# Entries per item. A first run's items are cut from estimates, on the target only, and
# kept large so that probes and the partial last page of each item cost under 2 % of the
# listing; a later run's are cut on both sides' recorded counts. Each item's listing ends
# on a partly used page per side (~1.1 LIST an item), so items of 64,000 entries (32
# pages a side) keep that under 2 % of a million keys' listing. (Cutting on the target's
# page ends would not save it: an item must read past its last key to know that key's
# versions ended, as S3 may split them across pages.)
FIRST_RUN_TARGET_ENTRIES = 64_000
RECORDED_ENTRIES = 64_000
# Samples per item: enough for the next run to cut an item into ~100 exact parts.
SAMPLES_PER_ITEM = 200
MIN_SAMPLE_EVERY = 500
# ... and never coarser than this, whatever a first run's estimate says: 2 x 10^5
# samples at 10^9 entries a side.
MAX_SAMPLE_EVERY = 10_000
# Probes: a few beyond one per item, several at a time once items are many.
PROBE_SLACK = 4
MAX_PROBES = 8_192
PROBE_THREADS = 32
# A level of at least this many folders and nothing else is cut by whole folders, sized
# from this many of them.
MIN_FOLDERS = 16
FOLDER_SAMPLES = 8
# The end of the key space, for a sample that runs to the end of its item.
KEY_SPACE_END = "\U0010ffff"


def items_for(entries: float, per_item: float, max_items: int) -> int:
    return max(1, min(max_items, math.ceil(entries / per_item)))


def sample_every(item_entries: float) -> int:
    return min(MAX_SAMPLE_EVERY, max(MIN_SAMPLE_EVERY, int(item_entries / SAMPLES_PER_ITEM)))


def landmarks(store: S3Store, bucket: str, prefix: str) -> tuple[str, list[str], bool]:
    """Delimiter listings a level or two deep: the prefix every key shares (descending
    while a level holds one folder and nothing else), the folders one level below it, and
    whether that level holds nothing but them."""
    folders, only = store.common_prefixes(bucket, prefix)
    for _ in range(2):
        if not (only and len(folders) == 1):
            break
        prefix = folders[0]
        folders, only = store.common_prefixes(bucket, prefix)
    return prefix, folders, only


def prober(store: S3Store, bucket: str) -> Callable[[str | None, str], Probe]:
    def probe(after: str | None, within: str) -> Probe:
        page = store.probe_page(bucket, within, after)
        counts = Counter(entry.key for entry in page.entries)  # in key order, as listed
        return Probe(after, tuple(counts.items()), page.is_truncated)

    return probe


def probe_boundaries(
    store: S3Store, bucket: str, prefix: str, root: str, max_items: int
) -> tuple[list[str], float, bool]:
    """Cut `prefix` (a bucket prefix under the scope's `root`) by probing: boundaries as
    relative keys, the estimated entries per item, and whether the estimate settled (the
    probes ran out of doubt, not out of budget)."""
    shared, folders, only = landmarks(store, bucket, prefix)
    probe = prober(store, bucket)
    if only and len(folders) >= MIN_FOLDERS:
        return folder_boundaries(folders, probe, root, max_items)
    splitter = ProbeSplitter(shared, folders, only)
    splitter.add(probe(None, shared))
    items = probe_until_even(splitter, probe, shared, FIRST_RUN_TARGET_ENTRIES, max_items)
    cuts = [key[len(root) :] for key in splitter.boundaries(items)]
    settled = splitter.settled(splitter.total() / items)
    # Twice the target's estimate: Diff lists both sides.
    return cuts, 2 * splitter.total() / items, settled


def probe_until_even(
    splitter: ProbeSplitter,
    probe: Callable[[str | None, str], Probe],
    within: str,
    per_item: float,
    max_items: int,
    *,
    max_probes: int = MAX_PROBES,
    threads: int = PROBE_THREADS,
) -> int:
    """Probe where the estimate is most in doubt until it can cut items of about
    `per_item` entries (at most `max_items`) or the budget (one probe per item and a few,
    at most `max_probes`) is spent; returns how many items to cut."""
    probes = most_items = len(splitter.probes)
    with ThreadPoolExecutor(threads, thread_name_prefix="syncpurge-probe") as pool:
        while True:
            total = splitter.total()
            items = items_for(total, per_item, max_items)
            # The estimate shrinks as the key space's end is found: the budget does not.
            most_items = max(most_items, items)
            budget = min(max_probes, most_items + PROBE_SLACK) - probes
            if budget <= 0:
                break
            width = max(1, min(threads, items // 16, budget))
            points = splitter.next_probes(total / items, width)
            if not points:
                break
            for found in pool.map(lambda point: probe(point, within), points):
                splitter.add(found)
            probes += len(points)
    return items_for(splitter.total(), per_item, max_items)


def folder_boundaries(
    folders: list[str], probe: Callable[[str | None, str], Probe], root: str, max_items: int
) -> tuple[list[str], float, bool]:
    """Many folders and nothing else at one level (dates, tenants): whole folders per item,
    as many folders in each, sized from the first pages of a few of them (a page that did
    not hold its folder whole counts double)."""
    step = max(1, len(folders) // FOLDER_SAMPLES)
    sampled = [probe(None, folder) for folder in folders[::step][:FOLDER_SAMPLES]]
    per_folder = sum(sum(n for _, n in p.keys) * (2 if p.truncated else 1) for p in sampled) / len(
        sampled
    )
    total = per_folder * len(folders)
    items = min(len(folders), items_for(total, FIRST_RUN_TARGET_ENTRIES, max_items))
    # the last folder of each group, and every key in it: the folder followed by the
    # highest code point sorts after all of them
    cuts = [
        folders[(i * len(folders)) // items - 1][len(root) :] + KEY_SPACE_END
        for i in range(1, items)
    ]
    # sized from a few folders: never settled
    return cuts, 2 * total / items, False


# ------------------------------------------------------------------ recorded samples


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
    return Location(bucket=run.workspace.bucket, prefix=f"{WORKSPACE_PREFIX}boundaries/")


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
