"""The scale model's synthetic key spaces: N sorted keys computed from their index, with
the two listing calls Plan makes (tests/benchmarks/scale_model.py)."""

from __future__ import annotations

import bisect
import itertools
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

    def folders(self, prefix: str, limit: int) -> tuple[list[str], bool]:
        """Up to `limit` folders one level below `prefix`, and whether that level is
        complete and holds nothing else."""
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
        return self.folders(prefix, 1000)  # one page, as S3 returns

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

    def folders(self, prefix: str, limit: int) -> tuple[list[str], bool]:
        return (["data/"], True) if prefix == "" else ([], False)


class EqualPrefixes(KeySpace):
    name = "10,000 prefixes"
    prefixes = 10_000

    def key(self, i: int) -> str:
        per = self.n // self.prefixes
        return f"tenant-{i // per:05d}/{i % per:09d}.json"

    def folders(self, prefix: str, limit: int) -> tuple[list[str], bool]:
        if prefix:
            return [], False
        return [f"tenant-{p:05d}/" for p in range(min(limit, self.prefixes))], (
            self.prefixes <= limit
        )


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

    def folders(self, prefix: str, limit: int) -> tuple[list[str], bool]:
        if prefix:
            return [], False
        return [f"t{name:05d}/" for name in self.names[:limit]], self.prefixes <= limit


class CsvLayout(KeySpace):
    """A layout read from a CSV of `prefix,entries[,pattern]` (`scale_model.py --layout`):
    each prefix holds that many keys, named by `pattern` formatted with the key's number
    in its prefix (default `{:010d}`: zero-padded, numbered from 0), or `hex32` for 32
    hexadecimal digits spread evenly (hashes, UUID-like names). Scaled to N keys in all."""

    def __init__(self, n: int, path: str) -> None:
        import csv

        rows: list[tuple[str, float, str]] = []
        with open(path, newline="", encoding="utf-8") as handle:
            for line, row in enumerate(csv.reader(handle), 1):
                if not row or row[0].startswith("#") or (line == 1 and row[0] == "prefix"):
                    continue
                if len(row) not in (2, 3):
                    raise ValueError(f"{path}:{line}: want prefix,entries[,pattern]: {row}")
                try:
                    entries = float(row[1])
                except ValueError:
                    raise ValueError(
                        f"{path}:{line}: entries is not a number: {row[1]!r}"
                    ) from None
                if entries <= 0:
                    raise ValueError(f"{path}:{line}: entries must be > 0: {row[1]!r}")
                rows.append((row[0], entries, row[2] if len(row) == 3 else "{:010d}"))
        if not rows:
            raise ValueError(f"{path}: no prefix,entries rows")
        rows.sort()
        for (low, _, _), (high, _, _) in itertools.pairwise(rows):
            if high.startswith(low):
                raise ValueError(f"{path}: {low!r} is listed twice or holds {high!r}")
        scale = n / sum(entries for _, entries, _ in rows)
        sizes = [max(1, int(entries * scale)) for _, entries, _ in rows]
        super().__init__(sum(sizes))
        self.name = f"layout {path.rsplit('/', 1)[-1]}"
        self.prefixes = [prefix for prefix, _, _ in rows]
        self.patterns = [pattern for _, _, pattern in rows]
        self.sizes = sizes
        self.starts = [0]
        for size in sizes:
            self.starts.append(self.starts[-1] + size)
        for at, size in enumerate(sizes):
            probe = sorted({j for j in (0, 1, 9, 10, 99, 100, 999, 1000, size - 1) if j < size})
            names = [self.key(self.starts[at] + j) for j in probe]
            if names != sorted(set(names)):
                raise ValueError(
                    f"{path}: {self.prefixes[at]!r}: pattern {self.patterns[at]!r} does not "
                    "sort in number order (zero-pad it, e.g. {:010d})"
                )

    def key(self, i: int) -> str:
        at = bisect.bisect_right(self.starts, i) - 1
        j, pattern = i - self.starts[at], self.patterns[at]
        if pattern == "hex32":
            return self.prefixes[at] + f"{(j * 16**32) // self.sizes[at]:032x}"
        return self.prefixes[at] + pattern.format(j)

    def folders(self, prefix: str, limit: int) -> tuple[list[str], bool]:
        """The first level of folders below `prefix`, up to `limit` (as S3's pages)."""
        below: list[str] = []
        only = True
        at = bisect.bisect_left(self.prefixes, prefix)
        while at < len(self.prefixes) and self.prefixes[at].startswith(prefix):
            rest = self.prefixes[at][len(prefix) :]
            if "/" not in rest:
                only, at = False, at + 1
                continue
            if len(below) == limit:
                return below, False
            below.append(prefix + rest[: rest.index("/") + 1])
            # past every prefix in that folder
            at = bisect.bisect_left(self.prefixes, below[-1] + "\U0010ffff", at)
        return below, only and bool(below)
