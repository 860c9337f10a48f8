"""Write the three layouts of issue 32 as `scale_model.py --layout` CSVs.

    python tests/benchmarks/layouts/make_layouts.py [DIR]   (default: a temporary folder)

- `dates.csv`: `logs/YYYY/MM/DD/` for the eight years 2019-2026, each day's size growing
  40x from the first day to the last, plus one hot folder (`ingest/hot/`) holding 30%.
- `customers.csv`: a million folders `customers/<id>/` (ids of seven digits, in a
  shuffled order), their sizes Zipf-distributed (the r-th largest proportional to
  1/r^1.1).
- `batches.csv`: 20,000 folders `…/batch<i>/` with unpadded numbers under one long
  shared prefix, of equal size.

Sizes are relative: the scale model scales them to `--entries`. It prints the paths.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

SHARED = "exports/warehouse-prod-eu-west-1/daily-snapshots/tables/events_v2/output/"


def dates() -> list[tuple[str, float]]:
    first, last = date(2019, 1, 1), date(2026, 12, 31)
    days = (last - first).days + 1
    rows = [
        ((first + timedelta(d)).strftime("logs/%Y/%m/%d/"), 40 ** (d / (days - 1)))
        for d in range(days)
    ]
    total = sum(size for _, size in rows)
    return [*rows, ("ingest/hot/", total * 0.3 / 0.7)]


def customers() -> list[tuple[str, float]]:
    count = 1_000_000
    ids = list(range(1_000_000, 1_000_000 + count))
    random.Random(32).shuffle(ids)
    return [(f"customers/{ids[r]}/", 1 / (r + 1) ** 1.1) for r in range(count)]


def batches() -> list[tuple[str, float]]:
    return [(f"{SHARED}batch{i}/", 1.0) for i in range(20_000)]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("dates", dates()), ("customers", customers()), ("batches", batches())):
        path = out / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["prefix", "entries"])
            writer.writerows((prefix, f"{size:.6g}") for prefix, size in rows)
        print(path)


if __name__ == "__main__":
    main()
