"""Scale model: a billion entries per side, on paper, with the real Plan splitting.

    python tests/benchmarks/scale_model.py [--entries 1000000000] [--concurrency 800]
        [--purge-concurrency 10] [--layout FILE.csv ...]
        [--purge-fraction 0.001] [--vanished-cluster 1000] [--page-latency 0.3] [--json]

What can't run here (10^9 entries per side on AWS) is predicted from what can:

- **Plan, for real.** `syncpurge.phases.cutting` cuts three synthetic key spaces of N
  keys a side (one entry each, generated lazily from their index: a probe is a binary
  search over indexes, never a list of N keys): one prefix (`data/0000000000.parquet`
  ...), 10,000 equal prefixes, and 10,000 Zipf-skewed prefixes (size of the r-th largest
  ∝ 1/r^1.1, names shuffled). First run: probes. Steady state: the samples a first run's
  Diff items record (one per `sample_every` entries, as `workflow.ranges.Sampler`).
- **Measured here.** CPU per listing page (botocore parsing a real 1,000-entry
  ListObjectVersions XML page with syncpurge's timestamp parser) and per entry (the diff),
  on this machine's core, taken as one Lambda vCPU (1,769 MB).
- **Constants**, each with its source (`scale_constants.py`), for latency, rate limits and
  prices.

For each layout it prints the predicted wall time (Plan, Diff, Purge), the requests by
type, and S3 request cost against the LIST floor: ⌈2N/1000⌉ LIST requests. Where the
design can't reach 15 minutes or 1.1x the floor, the binding limit is named. Asserts
nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scale_constants import CONSTANTS, c
from scale_keyspaces import CsvLayout, EqualPrefixes, KeySpace, OnePrefix, ZipfPrefixes
from scale_waves import Waves, first_wave, run_waves, summary

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- measured CPU


def measured_cpu() -> tuple[float, float]:
    """(seconds of CPU to parse one 1,000-entry page, seconds per entry diffed)."""
    import botocore.session
    from bench_reconcile import diff_throughput

    from syncpurge.data.clients import parse_timestamp

    session = botocore.session.get_session()
    model = session.get_service_model("s3").operation_model("ListObjectVersions")
    from botocore.parsers import create_parser

    parser = create_parser("rest-xml")
    parser._timestamp_parser = parse_timestamp  # what syncpurge's clients parse with
    rows = "".join(
        f"<Version><Key>data/{i:010d}.parquet</Key><VersionId>{'v' * 32}{i}</VersionId>"
        f"<IsLatest>true</IsLatest><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        f'<ETag>"{i:032x}"</ETag><Size>1234</Size><StorageClass>STANDARD</StorageClass>'
        "<Owner><ID>x</ID></Owner></Version>"
        for i in range(1000)
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws'
        '.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>'
        f"<NextKeyMarker>k</NextKeyMarker>{rows}</ListVersionsResult>"
    ).encode()
    response = {"body": body, "headers": {}, "status_code": 200}
    runs = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(10):
            parser.parse(response, model.output_shape)
        runs.append((time.process_time() - started) / 10)
    per_page = sorted(runs)[2]
    return per_page, 1 / diff_throughput(100_000)


# --------------------------------------------------------------------------- the model


@dataclass
class Args:
    entries: int
    concurrency: int
    purge_concurrency: int
    purge_fraction: float
    vanished_cluster: int
    page_latency: float


def item_seconds(entries: float, parse_cpu: float, entry_cpu: float, latency: float) -> float:
    """One Diff item: both sides listed concurrently (a page in flight on each), the pages
    parsed and diffed on one vCPU; a new slice (invocation) every 840 s of work."""
    pages = math.ceil(entries / 2 / 1000)
    cpu = 2 * pages * parse_cpu + entries * entry_cpu
    work = max(cpu, pages * latency)
    slices = max(1, math.ceil(work / c("sliceBudget")))
    return work + slices * c("lambdaStart")


def cut(space: KeySpace, max_items: int, steady: bool) -> tuple[list[str], float, bool, int, int]:
    """(Plan's cuts; its entries per item, both sides; whether they are trusted; Plan's
    LISTs; its probe rounds)."""
    from syncpurge.core.keyspace import ranges_between
    from syncpurge.core.probes import ProbeSplitter
    from syncpurge.phases import cutting
    from syncpurge.workflow import ranges

    rounds = 0
    original = ProbeSplitter.next_probes

    def counted(self: Any, item_entries: float, count: int = 1) -> list[str]:
        nonlocal rounds
        rounds += 1
        return original(self, item_entries, count)

    ProbeSplitter.next_probes = counted  # type: ignore[method-assign]
    try:
        space.requests = 0
        cuts, per_item, settled = cutting.probe_boundaries(space, "target", "", "", max_items)  # type: ignore[arg-type]
    finally:
        ProbeSplitter.next_probes = original  # type: ignore[method-assign]
    lists = space.requests
    every = ranges.sample_every(per_item)
    if steady:
        # the samples the first run's Diff items record (both sides: weight doubled)
        samples: list[tuple[str, int]] = []
        for part in ranges_between(cuts):
            lo = space.count_upto(part.after) if part.after is not None else 0
            hi = space.count_upto(part.up_to)
            for i in range(lo + every - 1, hi, every):
                samples.append((space.key(i), 2 * every))
            if (hi - lo) % every:
                samples.append((space.key(hi - 1), 2 * ((hi - lo) % every)))
        cuts, per_item = ranges.recorded_boundaries(samples, max_items)
        lists, rounds, settled = 0, 0, True
    return cuts, per_item, settled, lists, rounds


def diff_end(waves: Waves) -> str:
    """What binds the Diff's end, from its last wave: an item past Lambda's 15 minutes
    (it runs on in slices), the last item (it outlasts half the wave), or the Map's
    concurrency (the items queue for children)."""
    _, seconds, _, _, longest = waves.per_wave[-1]
    ahead = f"{waves.waves} waves, then " if waves.waves > 1 else ""
    if longest >= c("lambdaTimeout"):
        return f"{ahead}Lambda's 15 minutes (an item of {longest:.0f} s)"
    if longest >= 0.5 * seconds:
        return f"{ahead}the last item ({longest:.0f} s of a {seconds:.0f} s wave)"
    return f"{ahead}Map concurrency"


def predict(space: KeySpace, args: Args, cpu: tuple[float, float], steady: bool) -> dict[str, Any]:
    from syncpurge.workflow.plan import MAX_ITEMS_PER_SLOT

    parse_cpu, entry_cpu = cpu
    latency = args.page_latency
    slots = int(min(args.concurrency, c("accountConcurrency"), c("mapConcurrency")))
    max_items = MAX_ITEMS_PER_SLOT * args.concurrency
    cuts, per_item, trusted, plan_lists, rounds = cut(space, max_items, steady)
    n = space.n
    # --- Plan
    plan_seconds = (rounds + 3) * latency + c("lambdaStart")
    # --- Diff, in waves (an item that overruns hands the rest of its range back)
    waves = run_waves(
        space,
        first_wave(cuts, per_item, trusted=trusted),
        slots=slots,
        max_items=max_items,
        item_seconds=lambda e: item_seconds(e, parse_cpu, entry_cpu, latency),
        latency=latency,
    )
    sizes, durations = waves.sizes, waves.durations
    diff_lists = waves.lists + waves.probes
    list_floor_seconds = (diff_lists + plan_lists) / (c("listRate") * c("partitions"))
    diff_seconds = max(waves.seconds, list_floor_seconds)
    # --- Purge
    deletes = int(n * args.purge_fraction)
    vanished_keys = deletes // 2  # a vanished key's version and marker
    clusters = max(1, vanished_keys // args.vanished_cluster) if vanished_keys else 0
    verify = clusters  # one page answers a cluster of vanished keys (verify.py)
    delete_calls = math.ceil(deletes / 1000)
    purge_slots = min(args.purge_concurrency, int(c("accountConcurrency")))
    purge_seconds = max(
        deletes / (c("deleteRate") * c("partitions")),
        delete_calls * c("deleteLatency") / (purge_slots * 4),  # 4 DeleteObjects in flight
    ) + (c("lambdaStart") if deletes else 0)
    wall = plan_seconds + diff_seconds + purge_seconds + 2 * c("lambdaStart")
    # --- requests and cost
    slices = waves.slices
    workspace_puts = 3 * slices + math.ceil(deletes / 50_000) * 2
    s3_cost = (diff_lists + plan_lists + verify + delete_calls + workspace_puts) * c(
        "listPrice"
    ) + 2 * slices * c("getPrice")
    floor_lists = math.ceil(2 * n / 1000)
    floor_cost = floor_lists * c("listPrice")
    transitions = 40 + 4 * slices + 4 * math.ceil(deletes / 50_000)
    lambda_seconds = sum(durations) + purge_seconds * purge_slots / 4 + plan_seconds
    other_cost = (
        transitions * c("stateTransition")
        + lambda_seconds * 1.769 * c("lambdaGbSecond")
        + (slices + 10) * c("lambdaRequest")
    )
    mean = sum(sizes) / len(sizes)
    spread = waves.seconds
    bounds = {
        f"diff: {diff_end(waves)}": spread,
        "diff: S3's per-partition LIST rate": list_floor_seconds,
        "purge: S3 DELETE rate": deletes / (c("deleteRate") * c("partitions")),
    }
    return {
        "items": len(sizes),
        "diffWaves": summary(waves),
        "maxOverMean": round(max(sizes) / mean, 3),
        "planLists": plan_lists,
        "seconds": {
            "plan": round(plan_seconds),
            "diff": round(diff_seconds),
            "purge": round(purge_seconds),
            "wall": round(wall),
        },
        "binding": max(bounds, key=lambda k: bounds[k]),
        "requests": {
            "list": diff_lists + plan_lists,
            "verify": verify,
            "delete": delete_calls,
            "workspacePut": workspace_puts,
        },
        "listFloor": floor_lists,
        "s3Cost": round(s3_cost, 2),
        "listFloorCost": round(floor_cost, 2),
        "s3CostOverFloor": round(s3_cost / floor_cost, 3),
        "otherCost": round(other_cost, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=float, default=1e9, help="entries per side")
    parser.add_argument("--concurrency", type=int, default=800, help="Diff MaxConcurrency")
    parser.add_argument("--purge-concurrency", type=int, default=10, help="Purge MaxConcurrency")
    parser.add_argument("--purge-fraction", type=float, default=0.001)
    parser.add_argument("--vanished-cluster", type=int, default=1000)
    parser.add_argument("--page-latency", type=float, default=c("pageLatency"))
    parser.add_argument(
        "--layout",
        action="append",
        default=[],
        metavar="FILE",
        help="a CSV of prefix,entries[,pattern] modelled beside the built-in layouts "
        "(repeatable; entries are scaled to --entries)",
    )
    parser.add_argument("--json", action="store_true")
    raw = parser.parse_args()
    if raw.entries < 1e6 or not 0 <= raw.purge_fraction < 1 or raw.vanished_cluster < 1:
        parser.error("--entries >= 1e6, --purge-fraction in [0, 1), --vanished-cluster >= 1")
    if (
        not 1
        <= min(raw.concurrency, raw.purge_concurrency)
        <= max(raw.concurrency, raw.purge_concurrency)
        <= c("mapConcurrency")
        or raw.page_latency <= 0
    ):
        parser.error("--concurrency and --purge-concurrency in [1, 10000], --page-latency > 0")
    args = Args(
        int(raw.entries),
        raw.concurrency,
        raw.purge_concurrency,
        raw.purge_fraction,
        raw.vanished_cluster,
        raw.page_latency,
    )
    sys.path[:0] = [str(REPO / "lambdas"), str(REPO), str(REPO / "tests" / "benchmarks")]
    cpu = measured_cpu()
    results: dict[str, Any] = {
        "args": asdict(args),
        "measured": {"parseSecondsPerPage": cpu[0], "diffSecondsPerEntry": cpu[1]},
        "constants": {k: asdict(v) for k, v in CONSTANTS.items()},
        "layouts": {},
    }
    spaces: list[Callable[[int], KeySpace]] = [OnePrefix, EqualPrefixes, ZipfPrefixes]
    for path in raw.layout:
        try:
            CsvLayout(1000, path)
        except (OSError, ValueError) as err:
            parser.error(f"--layout {path}: {err}")
        spaces.append(lambda n, path=path: CsvLayout(n, path))
    for make in spaces:
        space = make(args.entries)
        results["layouts"][space.name] = {
            "firstRun": predict(space, args, cpu, steady=False),
            "steadyState": predict(space, args, cpu, steady=True),
        }
    if raw.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{args.entries:,} entries per side, Diff concurrency {args.concurrency}, Purge "
        f"{args.purge_concurrency}, "
        f"{args.purge_fraction:.2%} purged (vanished keys in clusters of "
        f"{args.vanished_cluster:,}), {args.page_latency} s a page"
    )
    print(
        f"measured here: {cpu[0] * 1000:.1f} ms CPU to parse a page, "
        f"{cpu[1] * 1e6:.2f} us CPU per entry diffed"
    )
    for name, runs in results["layouts"].items():
        for label, r in (("first run", runs["firstRun"]), ("steady state", runs["steadyState"])):
            s = r["seconds"]
            print(
                f"{name:>22} | {label:<12} | {r['items']:>5} items "
                f"({r['diffWaves']['waves']} waves, {r['diffWaves']['handedBack']} handed back "
                f"in {r['diffWaves']['pieces']} pieces), max/mean "
                f"{r['maxOverMean']:<5} | wall {s['wall'] / 60:5.1f} min (plan {s['plan']} s, "
                f"diff {s['diff']} s, purge {s['purge']} s; bound by {r['binding']}) | "
                f"LIST {r['requests']['list']:,} (floor {r['listFloor']:,}), verify "
                f"{r['requests']['verify']:,}, DeleteObjects {r['requests']['delete']:,} | "
                f"S3 ${r['s3Cost']} = {r['s3CostOverFloor']}x floor ${r['listFloorCost']}; "
                f"Lambda+SFN ${r['otherCost']}"
            )
            if r["diffWaves"]["perWave"]:
                print(
                    f"{'':>22} | {'':<12} | waves: "
                    + ", ".join(
                        f"{w['items']:,} items in {w['seconds']} s (largest "
                        f"{w['largestEntries']:,} entries, {w['largestOverMean']}x the mean)"
                        for w in r["diffWaves"]["perWave"]
                    )
                )


if __name__ == "__main__":
    main()
