"""Benchmark: syncpurge against the seed's per-key Lambda, on a local moto server.

    python tests/benchmarks/bench_reconcile.py --entries N [--vanished-fraction F] [--json]

Builds a source and a target bucket on a moto server on 127.0.0.1: N target keys, of which
a fraction F vanished from the source (their target version and delete marker are
leftovers); the rest are live in both, as DataSync leaves them. Then, in the same run:

- baseline: what the seed's Lambda does for each permanently deleted key
  (ListObjectVersions with Prefix=key, then DeleteObjects for that key's entries);
- syncpurge: `syncpurge reconcile` over the whole bucket;

each in its own process (so its peak RSS is its own), against the same state. Also the
diff's CPU throughput over pre-built pages with no network. Prints figures; asserts nothing.

moto's own ListObjectVersions deep-copies every version of the bucket for each page (about
6 s a page at 50,000 entries), so the server pages from a sorted index as S3 does
(`syncpurge_local.moto_s3`, checked against LocalStack by the conformance tier).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_moto import SOURCE, TARGET, populate, restore_vanished
from bench_process import peak_rss_mb

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


# --------------------------------------------------------------------------- children


def child_syncpurge(args: argparse.Namespace) -> dict[str, Any]:
    from syncpurge.cli import main

    out = io.StringIO()
    started = time.perf_counter()
    command = [
        "reconcile", "--source-bucket", SOURCE, "--target-bucket", TARGET, "--endpoint-url",
        args.endpoint, "--region", REGION, "--json", "--force", "--report", args.report,
    ]  # fmt: skip
    with (
        contextlib.redirect_stdout(out),
        open(os.devnull, "w") as quiet,
        contextlib.redirect_stderr(quiet),
    ):
        code = main(command)
    seconds = time.perf_counter() - started
    summary = json.loads(out.getvalue())
    return {
        "seconds": seconds,
        "requests": summary["requests"],
        "exitCode": code,
        "purged": summary["totals"]["purged"],
        "peakRssMb": peak_rss_mb(),
    }


def child_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """The seed's Lambda, once per permanently deleted key."""
    from syncpurge.data.clients import make_s3_client

    client = make_s3_client(region=REGION, endpoint_url=args.endpoint)
    keys = Path(args.keys_file).read_text().splitlines()
    requests = {"list": 0, "delete": 0, "verify": 0, "head": 0}
    purged = 0
    started = time.perf_counter()
    for key in keys:
        versions = client.list_object_versions(Bucket=TARGET, Prefix=key)
        requests["list"] += 1
        objects = [
            {"Key": key, "VersionId": v["VersionId"]}
            for v in versions.get("DeleteMarkers", []) + versions.get("Versions", [])
        ]
        if objects:
            client.delete_objects(Bucket=TARGET, Delete={"Objects": objects})
            requests["delete"] += 1
            purged += len(objects)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "requests": requests, "purged": purged, "peakRssMb": peak_rss_mb()}


def run_child(kind: str, endpoint: str, extra: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "PYTHONPATH": os.pathsep.join([str(REPO / "lambdas"), str(REPO)]),
        }
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                kind,
                "--endpoint",
                endpoint,
                "--result-file",
                result.name,
                *extra,
            ],
            check=True,
            env=env,
        )
        loaded: dict[str, Any] = json.loads(Path(result.name).read_text())
        return loaded


# --------------------------------------------------------------------------- CPU figure


def diff_throughput(entries: int) -> float:
    """Entries per second through page parsing, grouping and the diff, with no network."""
    from syncpurge.core.diff import DiffStats, diff_histories
    from syncpurge.core.listing import key_histories
    from syncpurge.core.rules import DiffPolicy
    from syncpurge.data.s3shapes import ListingPage, page_entries
    from syncpurge.models import Mode, Rule

    now = datetime.now(UTC)

    def pages(side: str) -> list[dict[str, Any]]:
        built, page = [], {"Versions": [], "DeleteMarkers": []}
        for i in range(entries):
            key = f"data/{i // 1000:05d}/{i:09d}.bin"
            if side == "target" or i % 100:
                page["Versions"].append(
                    {
                        "Key": key,
                        "VersionId": f"{side}{i}",
                        "IsLatest": True,
                        "LastModified": now - timedelta(days=1),
                        "Size": 10,
                        "ETag": f'"{i:032x}"',
                    }
                )
            if len(page["Versions"]) == 1000:
                built.append(page)
                page = {"Versions": [], "DeleteMarkers": []}
        built.append(page)
        return built

    source_pages, target_pages = pages("source"), pages("target")
    total = sum(len(p["Versions"]) for p in source_pages + target_pages)
    # The pre-built pages are scaffolding: keep the collector from walking them, so the
    # figure is the diff's own cost (in a real run they arrive one page at a time).
    gc.collect()
    gc.freeze()
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        for _ in diff_histories(
            key_histories(ListingPage(page_entries(p), [], True) for p in source_pages),
            key_histories(ListingPage(page_entries(p), [], True) for p in target_pages),
            DiffPolicy(Mode.DATASYNC, frozenset(Rule), now),
            DiffStats(),
        ):
            pass
        rates.append(total / (time.perf_counter() - started))
    gc.unfreeze()
    return sorted(rates)[1]


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=20_000, help="target keys (default 20,000)")
    parser.add_argument("--vanished-fraction", type=float, default=0.01)
    parser.add_argument(
        "--ambiguous-fraction",
        type=float,
        default=0.0,
        help="live keys with a same-size noncurrent target version only HEAD can settle",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--diff-entries", type=int, default=200_000, help="entries per side for the CPU figure"
    )
    parser.add_argument(
        "--child", choices=["syncpurge", "baseline", "diff"], help=argparse.SUPPRESS
    )
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    parser.add_argument("--keys-file", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()

    sys.path[:0] = [str(REPO / "lambdas"), str(REPO)]
    if args.child:
        if args.child == "diff":
            result: dict[str, Any] = {"rate": diff_throughput(args.diff_entries)}
        elif args.child == "syncpurge":
            result = child_syncpurge(args)
        else:
            result = child_baseline(args)
        Path(args.result_file).write_text(json.dumps(result))
        return
    if args.entries < 1 or not 0 <= args.vanished_fraction < 1:
        parser.error("--entries must be >= 1 and --vanished-fraction in [0, 1)")
    if not 0 <= args.ambiguous_fraction <= 1:
        parser.error("--ambiguous-fraction must be in [0, 1]")

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer
    from tests.s3servers import free_port

    from syncpurge_local.moto_s3 import install_s3_paging

    log = (lambda *a: None) if args.json else (lambda *a: print(*a, file=sys.stderr, flush=True))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    install_s3_paging()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for bucket in (SOURCE, TARGET):
            client.create_bucket(Bucket=bucket)
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        log(f"building {args.entries:,} target keys ({args.vanished_fraction:.1%} vanished)...")
        vanished, s, t, ambiguous = populate(
            backend, args.entries, args.vanished_fraction, args.ambiguous_fraction
        )
        d = 2 * len(vanished) + ambiguous
        with tempfile.TemporaryDirectory() as tmp:
            keys_file = Path(tmp) / "deleted-keys.txt"
            keys_file.write_text("\n".join(vanished))
            log("baseline: the seed's Lambda for each deleted key...")
            baseline = run_child("baseline", endpoint, ["--keys-file", str(keys_file)])
            restore_vanished(backend, vanished)
            log("syncpurge reconcile...")
            syncpurge = run_child("syncpurge", endpoint, ["--report", str(Path(tmp) / "r")])
    finally:
        server.stop()
    log(f"diff throughput over {args.diff_entries:,} pre-built entries per side...")
    figures = {
        "entries": {"source": s, "target": t, "purged": d, "ambiguous": ambiguous},
        # one HEAD per ambiguous target version plus one per source version of those keys
        "headBound": 2 * ambiguous,
        "syncpurge": syncpurge,
        "baseline": baseline,
        "lowerBound": math.ceil(s / 1000) + math.ceil(t / 1000) + math.ceil(d / 1000),
        "diffEntriesPerSecond": round(
            run_child("diff", endpoint, ["--diff-entries", str(args.diff_entries)])["rate"]
        ),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    sp, bl = figures["syncpurge"], figures["baseline"]
    spent = sp["requests"]["list"] + sp["requests"]["delete"]
    print(f"entries: source {s:,}, target {t:,}, to purge {d:,}")
    print(f"{'':22}{'syncpurge':>14}{'baseline':>14}")
    print(f"{'wall seconds':22}{sp['seconds']:>14.2f}{bl['seconds']:>14.2f}")
    for kind in ("list", "delete", "verify", "head"):
        mine, theirs = sp["requests"].get(kind, 0), bl["requests"].get(kind, 0)
        print(f"{kind + ' requests':22}{mine:>14,}{theirs:>14,}")
    print(f"{'entries purged':22}{sp['purged']:>14,}{bl['purged']:>14,}")
    print(f"{'peak RSS MB':22}{sp['peakRssMb']:>14.1f}{bl['peakRssMb']:>14.1f}")
    print(
        f"lower bound (list+delete): {figures['lowerBound']:,}; syncpurge list+delete: "
        f"{spent:,} ({spent / figures['lowerBound']:.3f}x)"
    )
    print(
        f"HEAD requests: {sp['requests'].get('head', 0):,} for {ambiguous:,} ambiguous target "
        f"versions (bound {figures['headBound']:,})"
    )
    print(f"diff CPU throughput: {figures['diffEntriesPerSecond']:,} entries/s")


if __name__ == "__main__":
    main()
