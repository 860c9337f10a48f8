"""Cut a prefix of the key space into key ranges of about even entries, by probing the
target: delimiter listings for its folders, then one-page probes where the estimate is most
in doubt (`syncpurge.core.probes.ProbeSplitter`). The state machine's Plan and Recut and the
CLI's worker pool cut with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from syncpurge.core.keyspace import MAX_KEY_BYTES, KeyRange, cuts_within, ranges_between
from syncpurge.core.probes import Probe, ProbeSplitter
from syncpurge.core.scope import Scope
from syncpurge.data.s3store import S3Store

# Entries per item. A first run's items are cut from estimates, on the target only, and
# kept large so that probes and the partial last page of each item cost under 2 % of the
# listing; a later run's are cut on both sides' recorded counts. Each item's listing ends
# on a partly used page per side (~1.1 LIST an item), so items of 64,000 entries (32
# pages a side) keep that under 2 % of a million keys' listing. (Cutting on the target's
# page ends would not save it: an item must read past its last key to know that key's
# versions ended, as S3 may split them across pages.)
FIRST_RUN_TARGET_ENTRIES = 64_000
# Probes: a few beyond one per item, several at a time once items are many.
PROBE_SLACK = 4
MAX_PROBES = 8_192
PROBE_THREADS = 32
# A level of at least this many folders and nothing else is cut by whole folders, sized
# from this many of them.
MIN_FOLDERS = 16
FOLDER_SAMPLES = 8
# Levels of lone folders Plan descends to find the prefix every key shares (a LIST each):
# past DEPTH characters of a shared prefix, probes can't tell keys apart.
MAX_SHARED_LEVELS = 16
# The end of the key space, for a sample that runs to the end of its item.
KEY_SPACE_END = "\U0010ffff"


def items_for(entries: float, per_item: float, max_items: int) -> int:
    return max(1, min(max_items, math.ceil(entries / per_item)))


def landmarks(
    store: S3Store, bucket: str, prefix: str, ignore: tuple[str, ...] = ()
) -> tuple[str, list[str], bool]:
    """Delimiter listings a level or two deep: the prefix every key shares (descending
    while a level holds one folder and nothing else), the folders one level below it, and
    whether that level holds nothing but them. Folders under an `ignore` prefix (outside
    the scope: the CLI's lock) are not counted: a lone key far from the rest would make a
    probe read the space between them as nearly empty."""
    folders, only = _folders(store, bucket, prefix, ignore)
    for _ in range(MAX_SHARED_LEVELS):
        if not (only and len(folders) == 1):
            break
        prefix = folders[0]
        folders, only = _folders(store, bucket, prefix, ignore)
    return prefix, folders, only


def _folders(
    store: S3Store, bucket: str, prefix: str, ignore: tuple[str, ...]
) -> tuple[list[str], bool]:
    folders, only = store.common_prefixes(bucket, prefix)
    return [folder for folder in folders if not folder.startswith(ignore)], only


def prober(store: S3Store, bucket: str) -> Callable[[str | None, str], Probe]:
    def probe(after: str | None, within: str) -> Probe:
        page = store.probe_page(bucket, within, after)
        counts = Counter(entry.key for entry in page.entries)  # in key order, as listed
        return Probe(after, tuple(counts.items()), page.is_truncated)

    return probe


def probe_boundaries(
    store: S3Store,
    bucket: str,
    prefix: str,
    root: str,
    max_items: int,
    *,
    per_item: float | None = None,
    ignore: tuple[str, ...] = (),
    folder_samples: int = FOLDER_SAMPLES,
) -> tuple[list[str], float, bool]:
    """Cut `prefix` (a bucket prefix under the scope's `root`) by probing, in items of about
    `per_item` target entries (None: FIRST_RUN_TARGET_ENTRIES), not counting folders under
    an `ignore` prefix: boundaries as relative keys, the estimated entries per item, and
    whether the estimate settled (the probes ran out of doubt, not out of budget). Cuts
    only weigh the items: whatever they are, the items cover the prefix."""
    per_item = per_item or FIRST_RUN_TARGET_ENTRIES
    shared, folders, only = landmarks(store, bucket, prefix, ignore)
    probe = prober(store, bucket)
    if only and len(folders) >= MIN_FOLDERS:
        return folder_boundaries(
            folders, probe, root, max_items, per_item=per_item, samples=folder_samples
        )
    splitter = ProbeSplitter(shared, folders, only)
    splitter.add(probe(None, shared))
    items = probe_until_even(splitter, probe, shared, per_item, max_items)
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
    folders: list[str],
    probe: Callable[[str | None, str], Probe],
    root: str,
    max_items: int,
    *,
    per_item: float,
    samples: int = FOLDER_SAMPLES,
) -> tuple[list[str], float, bool]:
    """Many folders and nothing else at one level (dates, tenants): whole folders per item,
    as many folders in each, sized from the first pages of a few of them (a page that did
    not hold its folder whole counts double)."""
    step = max(1, len(folders) // samples)
    sampled = [probe(None, folder) for folder in folders[::step][:samples]]
    per_folder = sum(sum(n for _, n in p.keys) * (2 if p.truncated else 1) for p in sampled) / len(
        sampled
    )
    total = per_folder * len(folders)
    items = min(len(folders), items_for(total, per_item, max_items))
    # the last folder of each group, and every key in it: the folder followed by the
    # highest code point sorts after all of them
    cuts = [
        folders[(i * len(folders)) // items - 1][len(root) :] + KEY_SPACE_END
        for i in range(1, items)
    ]
    # sized from a few folders: never settled
    return cuts, 2 * total / items, False


def relative_key_limit(scope: Scope) -> int:
    """A relative cut becomes a KeyMarker under either root: the bytes it may take to fit
    S3's key length under both."""
    roots = max(len(scope.source_root.encode()), len(scope.target_root.encode()))
    return MAX_KEY_BYTES - roots


def key_ranges(cuts: list[str], scope: Scope) -> list[KeyRange]:
    """The key ranges between `cuts` (relative keys), each cut fitted to S3's key length."""
    return ranges_between(cuts_within(cuts, relative_key_limit(scope)))
