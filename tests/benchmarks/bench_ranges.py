"""Benchmark: N keys through the local runtime, fanned out by key range.

    python tests/benchmarks/bench_ranges.py --keys 100000 --keys 1000000 [--slices-only]
        [--layout one-prefix] [--layout zipf] [--layout dates] [--json]

For each N and layout, moto's backend gets a source and a target whose keys all sit under
`data/` (flat, sequential names; `--layout zipf`: 1,000 prefixes of Zipf-skewed sizes,
each numbering its keys from 0 in ten zero-padded digits, which a first run's probes
mis-estimate, so its items hand back and re-cut; `--layout dates`: the date-partitioned
shape of the scale model's `layouts/dates.csv`, `data/logs/YYYY/MM/DD/` over eight years
growing 40x, and one hot folder `data/ingest/hot/` holding 30 %): every key live in both,
1 % vanished from the source (a target version and DataSync's delete marker left), 1 % with a
noncurrent target version of another size (an orphan), 5 % with a noncurrent version both
sides kept. Then, in one process, on the same state:

  A. the engine over the whole scope as one item, dry run (what the CLI does): the plan;
  B. the state machine's first run, dry: Plan cuts by probes; per-item entries;
  C. its second run, dry: Plan cuts on B's recorded boundaries;
  D. a real run (C's boundaries again): requests, purged entries.

and prints: items and max/mean entries per item for B and C; whether B, C and D plan
exactly A's entries; list requests of B (its probes included) and of D, D's deletes, and
the lower bound ⌈s/1000⌉ + ⌈t/1000⌉ + ⌈d/1000⌉.

Per-slice memory: the largest Diff item of B and of C, and B's whole prefix as one item,
are replayed (the event the state machine sent, with the range dropped for the whole
prefix) by the real handler in a process of its own, against a moto server that shares
this process's buckets, and that process's peak RSS is printed beside its peak after
imports. The emulator runs every slice in one process with moto, so its own RSS says
nothing about a slice. `--slices-only` stops after B. Asserts nothing.
"""

from __future__ import annotations

import argparse
import bisect
import json
import logging
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_process import peak_rss_mb
from bench_ranges_report import report

REPO = Path(__file__).resolve().parents[2]
# Every local Lambda's time budget, the replayed slices' too: no slice is cut short by
# the emulator's own slowness (a real Diff item of ~128,000 entries lists in under a
# minute), so none restarts and re-reads pages.
LAMBDA_BUDGET_SECONDS = 86_400


ZIPF_PREFIXES = 1_000


def key_names(keys: int, layout: str) -> Callable[[int], str]:
    """The i-th key of the layout: `one-prefix` (data/000000123.bin ...), `zipf`: 1,000
    prefixes whose sizes fall as 1/rank^1.1 (names shuffled, so the largest are anywhere),
    each numbering its keys from 0 with ten zero-padded digits, as the scale model's; or
    `dates`: the scale model's date-partitioned layout under `data/`."""
    if layout == "one-prefix":
        return lambda i: f"data/{i:09d}.bin"
    if layout == "dates":
        from layouts.make_layouts import dates

        folders = [("data/" + prefix, size) for prefix, size in dates()]
        return sized_folders(keys, sorted(folders), "{:07d}.json")
    weights = [1 / (rank + 1) ** 1.1 for rank in range(ZIPF_PREFIXES)]
    names = list(range(ZIPF_PREFIXES))
    random.Random(7).shuffle(names)
    by_name = sorted((f"t{name:04d}/", w) for name, w in zip(names, weights, strict=True))
    return sized_folders(keys, by_name, "{:010d}")


def sized_folders(
    keys: int, folders: list[tuple[str, float]], pattern: str
) -> Callable[[int], str]:
    """`keys` names over (folder, weight) pairs in key order, each folder holding its share
    numbered from 0 by `pattern` (the first folder of the largest weight takes the
    rounding)."""
    total = sum(weight for _, weight in folders)
    sizes = [max(1, int(weight * keys / total)) for _, weight in folders]
    sizes[max(range(len(sizes)), key=lambda at: sizes[at])] += keys - sum(sizes)
    starts = [0]
    for size in sizes:
        starts.append(starts[-1] + size)

    def name(i: int) -> str:
        at = bisect.bisect_right(starts, i) - 1
        return folders[at][0] + pattern.format(i - starts[at])

    return name


def populate(backend: Any, source: str, target: str, keys: int, layout: str) -> None:
    name = key_names(keys, layout)
    for i in range(keys):
        key = name(i)
        body = f"body-{i}".encode()
        if i % 100 == 50:  # vanished
            backend.put_object(target, key, body)
            backend.delete_object(target, key)
            continue
        if i % 100 == 10:  # an orphan: a version the source erased, of another size
            backend.put_object(target, key, body + b"-erased")
        if i % 20 == 3:  # history both sides kept
            backend.put_object(source, key, body + b"-old")
            backend.put_object(target, key, body + b"-old")
        backend.put_object(source, key, body)
        backend.put_object(target, key, body)


def where(layout: str) -> str:
    if layout == "dates":
        return "in date-partitioned folders under data/, one hot folder of 30 %"
    if layout == "zipf":
        return f"in {ZIPF_PREFIXES:,} Zipf-skewed prefixes"
    return "under data/"


def plan_rows(lines: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """Each entry's key, version, rule and proof, and purge or skip-with-reason."""
    return {
        (
            line["key"],
            line["versionId"],
            line["rule"],
            line["proof"],
            "purge" if line["outcome"] in ("planned", "purged") else f"skip:{line['reason']}",
        )
        for line in lines
    }


def items_of(client: Any, bucket: str, run_id: str) -> dict[int, int]:
    """Entries (both sides) each Diff item listed, by item index, from the run's diff-stats."""
    sizes: dict[int, int] = {}
    prefix = f"syncpurge-work/{run_id}/diff-stats/"
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            doc = json.loads(client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            item = int(obj["Key"].rsplit("/", 1)[1].split("-")[0])
            sizes[item] = sizes.get(item, 0) + doc["sourceEntries"] + doc["targetEntries"]
    return sizes


def child_diff(event_file: str, result_file: str) -> None:
    """One Diff slice by the real handler, in this process alone (S3: AWS_ENDPOINT_URL)."""
    from syncpurge_handlers.diff import handler
    from syncpurge_local.runtime import LocalLambdaContext

    imported = peak_rss_mb()
    event = json.loads(Path(event_file).read_text())
    started = time.perf_counter()
    progress = handler(event, LocalLambdaContext("syncpurge-diff", LAMBDA_BUDGET_SECONDS))
    result = {
        "seconds": round(time.perf_counter() - started),
        "done": progress["done"],
        "importedRssMb": imported,
        "peakRssMb": peak_rss_mb(),
    }
    Path(result_file).write_text(json.dumps(result))


def replay_diff(event: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """`child_diff` in a new process on `event`, against the moto server at `endpoint`."""
    with tempfile.TemporaryDirectory() as tmp:
        event_file, result_file = Path(tmp) / "event.json", Path(tmp) / "result.json"
        event_file.write_text(json.dumps(event))
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "PYTHONPATH": os.pathsep.join(str(REPO / d) for d in ("lambdas", "workflows", "")),
        }
        command = [sys.executable, __file__, "--child-diff", str(event_file), str(result_file)]
        subprocess.run(command, check=True, env=env)
        loaded: dict[str, Any] = json.loads(result_file.read_text())
        return loaded


def whole_prefix(event: dict[str, Any]) -> dict[str, Any]:
    """A Diff item's event for its whole prefix, writing to a scratch workspace (its
    samples would otherwise join the run's recorded boundaries)."""
    copied = json.loads(json.dumps(event))
    copied["item"].pop("after", None)
    copied["item"].pop("upTo", None)
    copied["run"]["workspace"]["prefix"] += "bench-whole-prefix/"
    return copied


def bench(
    keys: int,
    log: Callable[[str], None],
    slices_only: bool,
    *,
    layout: str = "one-prefix",
    runs: str = "ABCD",
    replay: bool = True,
) -> dict[str, Any]:
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from tests.engine_runs import engine_policy, engine_run
    from tests.s3servers import moto_server
    from tests.workflow.conftest import REPORTS, deploy

    from syncpurge.data.clients import make_s3_client
    from syncpurge.data.s3shapes import RequestCounter
    from syncpurge.data.s3store import S3Store
    from syncpurge.models import ReconcileRequest
    from syncpurge.phases.report import read_entries_lines
    from syncpurge_local.runtime import LocalRuntime

    figures: dict[str, Any] = {"keys": keys, "layout": layout, "where": where(layout)}
    request = {"skipSync": True, "maxPurgeFraction": 1.0, "force": True}
    with (
        LocalRuntime(lambda_budget_seconds=LAMBDA_BUDGET_SECONDS) as runtime,
        tempfile.TemporaryDirectory() as tmp,
        # Serves this process's buckets (paged as S3 does, by the runtime) to replayed slices.
        moto_server(like_s3=False) as endpoint,
    ):
        deployed = deploy(runtime)
        source, target = deployed.pair.source, deployed.pair.target
        log(f"{keys:,} keys: building the buckets...")
        started = time.perf_counter()
        populate(s3_backends[DEFAULT_ACCOUNT_ID]["aws"], source, target, keys, layout)
        figures["buildSeconds"] = round(time.perf_counter() - started)

        client = boto3.client("s3", region_name="us-east-1")
        plan_a: set[tuple[Any, ...]] | None = None

        def run(name: str, dry: bool, replay_whole_prefix: bool = False) -> dict[str, Any]:
            log(f"{name}: the state machine{' (dry run)' if dry else ''}...")
            started = time.perf_counter()
            invoked = len(runtime.invocations)
            result = deployed.run({**request, "dryRun": dry}, timeout=24 * 3600)
            assert result.status == "SUCCEEDED", result.cause
            summary, lines = deployed.report(result)
            sizes = items_of(client, REPORTS, summary["runId"])
            mean = sum(sizes.values()) / len(sizes)
            largest = max(sizes, key=lambda index: sizes[index])
            doc = {
                "seconds": round(time.perf_counter() - started),
                "items": len(sizes),
                "maxOverMean": round(sizes[largest] / mean, 3),
                "itemEntries": [sizes[index] for index in sorted(sizes)],
                "requests": summary["requests"],
                "totals": summary["totals"],
                "recut": summary.get("recut"),
                "samePlanAsA": plan_rows(lines) == plan_a if plan_a is not None else None,
            }
            if dry and replay:
                event = next(
                    event
                    for step, event in runtime.invocations[invoked:]
                    if step == "diff"
                    and event["item"]["index"] == largest
                    and event.get("progress", {}).get("slice", 0) == 0
                )
                log(f"{name}: item {largest} ({sizes[largest]:,} entries) in its own process...")
                doc["largestSlice"] = {
                    "entries": sizes[largest],
                    **replay_diff(event, endpoint),
                }
            if dry and replay_whole_prefix:
                log(f"{name}: the whole prefix as one item in its own process...")
                doc["wholePrefixSlice"] = {
                    "entries": sum(sizes.values()),
                    **replay_diff(whole_prefix(event), endpoint),
                }
            return doc

        if not slices_only and "A" in runs:
            log("A: the CLI's driver, one worker, dry run...")
            started = time.perf_counter()
            store = S3Store(make_s3_client(), RequestCounter())
            single = engine_run(
                engine_policy(
                    source, target, ReconcileRequest.model_validate({**request, "dryRun": True})
                ),
                source=store,
                target=store,
                report=Path(tmp) / "single",
            )
            folder = Path(tmp) / "single" / single.summary.run_id
            plan_a = plan_rows(list(read_entries_lines(folder)))
            figures["A"] = {
                "seconds": round(time.perf_counter() - started),
                "requests": single.summary.requests.model_dump(),
                "planned": single.summary.totals.planned,
            }
        figures["B"] = run("B", dry=True, replay_whole_prefix=replay)
        if slices_only:
            return figures
        if "C" in runs:
            figures["C"] = run("C", dry=True)
        if "D" not in runs:
            return figures
        figures["D"] = run("D", dry=False)
    totals = figures["D"]["totals"]
    figures["lowerBound"] = (
        math.ceil(totals["sourceEntries"] / 1000)
        + math.ceil(totals["targetEntries"] / 1000)
        + math.ceil(totals["purged"] / 1000)
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, action="append", help="target keys (repeatable)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--slices-only",
        action="store_true",
        help="only the first run and its Diff slices' memory (no A, C, D)",
    )
    parser.add_argument(
        "--layout",
        choices=("one-prefix", "zipf", "dates"),
        action="append",
        help="key layout (repeatable; default one-prefix)",
    )
    parser.add_argument(
        "--runs",
        default="ABCD",
        help="which of A, B, C, D to run (B always runs: it records the boundaries)",
    )
    parser.add_argument(
        "--no-replay", action="store_true", help="skip replaying slices in their own process"
    )
    parser.add_argument("--child-diff", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_diff:
        child_diff(*args.child_diff)
        return
    sizes = args.keys or [100_000]
    if any(n < 1_000 for n in sizes):
        parser.error("--keys must be at least 1,000")
    if not set(args.runs.upper()) <= set("ABCD"):
        parser.error(f"--runs takes letters of ABCD, not {args.runs!r}")
    sys.path[:0] = [str(REPO / "lambdas"), str(REPO / "workflows"), str(REPO)]
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    logging.getLogger("botocore").setLevel(logging.ERROR)
    log = (lambda _m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    results = [
        bench(
            n,
            log,
            args.slices_only,
            layout=layout,
            runs=args.runs.upper(),
            replay=not args.no_replay,
        )
        for layout in args.layout or ["one-prefix"]
        for n in sizes
    ]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for figures in results:
        report(figures)


if __name__ == "__main__":
    main()
