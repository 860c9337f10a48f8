"""The scale model's synthetic key spaces: N sorted keys computed from their index, with
the two listing calls Plan makes (tests/benchmarks/scale_model.py)."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime
from typing import Any


class KeySpace:
    """N sorted keys, one entry each, computed from their index."""

    name = ""

    def __init__(self, n: int) -> None:
        self.n = n
        self.requests = 0

    def key(self, i: int) -> str:
        raise NotImplementedError

    def folders(self, prefix: str) -> tuple[list[str], bool]:
        raise NotImplementedError

    def count_upto(self, key: str | None) -> int:
        """How many keys are <= key (all of them for None)."""
        if key is None:
            return self.n
        lo, hi = 0, self.n
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid) <= key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # the two S3 calls Plan makes (as syncpurge.data.s3store.S3Store names them)
    def common_prefixes(self, bucket: str, prefix: str) -> tuple[list[str], bool]:
        self.requests += 1
        return self.folders(prefix)

    def probe_page(self, bucket: str, prefix: str, after: str | None) -> Any:
        from syncpurge.data.s3shapes import ListingPage
        from syncpurge.models import Entry

        self.requests += 1
        start = self.count_upto(prefix) if prefix else 0  # the prefix itself is no key
        if after is not None:
            start = max(start, self.count_upto(after))
        keys = [self.key(i) for i in range(start, min(self.n, start + 1000))]
        keys = [k for k in keys if k.startswith(prefix)]
        now = datetime.now(UTC)
        entries = [Entry(k, "v", True, now, False, 1, '"e"') for k in keys]
        return ListingPage(entries, [], start + 1000 < self.n and len(keys) == 1000)


class OnePrefix(KeySpace):
    name = "one prefix"

    def key(self, i: int) -> str:
        return f"data/{i:010d}.parquet"

    def folders(self, prefix: str) -> tuple[list[str], bool]:
        return (["data/"], True) if prefix == "" else ([], False)


class EqualPrefixes(KeySpace):
    name = "10,000 prefixes"
    prefixes = 10_000

    def key(self, i: int) -> str:
        per = self.n // self.prefixes
        return f"tenant-{i // per:05d}/{i % per:09d}.json"

    def folders(self, prefix: str) -> tuple[list[str], bool]:
        if prefix:
            return [], False
        return [f"tenant-{p:05d}/" for p in range(1000)], False  # one page of 10,000


class ZipfPrefixes(KeySpace):
    name = "Zipf-skewed prefixes"
    prefixes = 10_000

    def __init__(self, n: int) -> None:
        super().__init__(n)
        weights = [1 / (r + 1) ** 1.1 for r in range(self.prefixes)]
        scale = n / sum(weights)
        sizes = [max(1, int(w * scale)) for w in weights]
        sizes[0] += n - sum(sizes)
        names = list(range(self.prefixes))
        random.Random(7).shuffle(names)
        by_name = sorted(zip(names, sizes, strict=True))
        self.names = [name for name, _ in by_name]
        self.starts = [0]
        for _, size in by_name:
            self.starts.append(self.starts[-1] + size)
        self.largest = max(sizes)

    def key(self, i: int) -> str:
        at = bisect.bisect_right(self.starts, i) - 1
        return f"t{self.names[at]:05d}/{i - self.starts[at]:010d}"

    def folders(self, prefix: str) -> tuple[list[str], bool]:
        if prefix:
            return [], False
        return [f"t{name:05d}/" for name in self.names[:1000]], False
