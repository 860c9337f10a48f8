"""Benchmark: one key with very many versions through the diff (issue 8, defect 10).

    python tests/benchmarks/bench_long_key.py [--versions N] [--json]

ListObjectVersions pages (no network, each page's entries made as it is listed) of one key
with N target versions of which the source still holds the newest 1,000 (the rest are
leftovers of permanent deletes), plus a vanished key of N versions. The diff and its
proofs run twice in the same process, each measured with tracemalloc:

- baseline: the whole key held at once (segments as long as the key), as before the fix;
- syncpurge: the key streamed in segments of `KEY_SEGMENT_ENTRIES`.

Prints peak traced memory, time and entries planned for both; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.listing import KEY_SEGMENT_ENTRIES, key_histories
from syncpurge.core.proof import resolve
from syncpurge.core.rules import DiffPolicy
from syncpurge.data.s3shapes import ListingPage
from syncpurge.models import Entry, Mode, Rule

PAGE = 1000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def history(key: str, count: int) -> Iterator[Entry]:
    """A key's versions, newest (current) first, each of its own size; built as listed."""
    for n in range(count):
        stamp = T0 - timedelta(seconds=n)
        yield Entry(key, f"{key}-{n:09d}", n == 0, stamp, False, n, f'"{key}-{n}"')


def pages(*histories: Iterator[Entry]) -> Iterator[ListingPage]:
    """Pages of PAGE entries, each page's Entry objects made only when it is listed."""
    marker = None
    entries = (entry for h in histories for entry in h)
    while chunk := list(islice(entries, PAGE)):
        yield ListingPage(chunk, [], len(chunk) == PAGE, marker)
        marker = (chunk[-1].key, chunk[-1].version_id)


class NoHeads:
    def head_version(self, bucket: str, key: str, version_id: str) -> None:
        return None


def measure(versions: int, source_versions: int, segment: int) -> dict[str, Any]:
    tracemalloc.start()
    started = time.perf_counter()
    planned = 0
    for _ in resolve(
        diff_histories(
            key_histories(pages(history("long", source_versions)), segment_entries=segment),
            key_histories(
                pages(history("long", versions), history("vanished", versions)),
                segment_entries=segment,
            ),
            DiffPolicy(Mode.DATASYNC, frozenset(Rule)),
            DiffStats(),
        ),
        source=NoHeads(),
        target=NoHeads(),
        source_bucket="s",
        target_bucket="t",
    ):
        planned += 1
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"segment": segment, "planned": planned, "seconds": seconds, "peak_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=300_000)
    parser.add_argument("--source-versions", type=int, default=1_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = (args.versions, args.source_versions)
    figures = {
        "versions_per_key": args.versions,
        "source_versions": args.source_versions,
        "baseline_whole_key": measure(*sizes, segment=args.versions + 1),
        "syncpurge_segments": measure(*sizes, segment=KEY_SEGMENT_ENTRIES),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(
        f"a key of {args.versions:,} target versions ({args.source_versions:,} in the source) "
        "and a vanished key as long"
    )
    for name in ("baseline_whole_key", "syncpurge_segments"):
        f = figures[name]
        print(
            f"  {name:20} segment {f['segment']:>9,}  planned {f['planned']:,}  "
            f"peak {f['peak_mib']:7.1f} MiB  {f['seconds']:5.1f} s"
        )


if __name__ == "__main__":
    main()
