"""Benchmark: `syncpurge reconcile --workers` against S3 with a Region's latency, on moto.

    python tests/benchmarks/bench_cli_parallel.py [--entries N] [--vanished-fraction F]
        [--list-latency S] [--other-latency S] [--workers-default W] [--json]

Builds a source and a target bucket straight into a moto server's backend on 127.0.0.1 (as
bench_reconcile.py does: N target keys, a fraction F vanished from the source, their target
version and delete marker left over), and puts a proxy in front of it (tests/s3proxy.py)
that waits S before each LIST page (`--list-latency`, default 0.3 s) and S before any other
request (`--other-latency`, default 0.05 s), as a far-away Region answers. Then, in the same
run, each `syncpurge reconcile ... --json` in its own process:

- workers 1: `--force --workers 1`; the leftovers are put back afterwards;
- default: `--force`, at `--workers-default W` if given, else with no `--workers` flag at
  all (the CLI's own default); the leftovers are put back afterwards;
- dry run: the default's workers, `--dry-run`;
- apply plan: `--apply-plan <the dry run's run id>` (no --force: a reviewed plan needs none).

`--workers` is only passed if `reconcile --help` mentions it; if not, the workers-1 run is
skipped and the output says so (`--skip-workers-1` skips it in any case).

Figures, for each run:
- wall s: the CLI's `main()` in the child, from its start to its summary (process s: the
  child process as the bench saw it, interpreter start and imports included);
- CPU s: the child process's user + sys CPU (getrusage RUSAGE_CHILDREN, before and after;
  imports included); main() CPU s: the same, of `main()` alone, measured in the child;
  server CPU s: this process's own CPU meanwhile (moto and the proxy, which compete with
  the child for the machine's CPUs);
- requests: the CLI summary's `requests` (list, delete, verify, head), and what reached the
  proxy: LIST pages (tests/s3proxy.py `request_kind`: ListObjectVersions / ListObjects
  pages, the verify and preflight listings included; not a bucket's configuration reads
  such as `?versioning`) and every other request, retries included;
- workers / streams: the run's workers (given, or the default `--workers-default` names, or
  the one the CLI's `--help` gives as its default; 1 for a CLI without `--workers`), and
  streams = 2 x workers (each worker lists the source and the target at once);
- latency floor s = the proxy's LIST pages x --list-latency / streams: the figure that
  formula gives, as printed; it assumes every LIST page spread evenly over the streams,
  all of them busy all the time, and ignores the other requests' latency (a listing that
  can't be split, such as a verify, makes the real floor higher);
- CPU floor s = CPU s / os.cpu_count(): the wall time the child's CPU needs if spread over
  every CPU of the machine (the server's CPU not counted);
- CPU ms per 1,000 listed entries = CPU s / ((summary sourceEntries + targetEntries) / 1000);
- list+delete and all requests (list + delete + verify + head), each over the listing lower
  bound ceil(source/1000) + ceil(target/1000) + ceil(purged/1000) (bench_reconcile.py's).

Across runs: the speed-up (workers 1 wall s / default wall s), and the apply plan's LIST
requests over the default run's (the fresh plan's listing).

Prints the machine (os.cpu_count(), platform, Python) and a table, or JSON with `--json`.
Asserts nothing: a benchmark prints; the reader judges.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_cli_table import print_table
from bench_moto import SOURCE, TARGET, populate, restore_vanished
from bench_process import peak_rss_mb

if TYPE_CHECKING:
    from tests.s3proxy import ProxyLog

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
PATHS = [str(REPO / "lambdas"), str(REPO / "workflows"), str(REPO)]


# --------------------------------------------------------------------------- child


def child_reconcile(cli_args: list[str]) -> dict[str, Any]:
    """One `syncpurge reconcile` in this (child) process, as the `syncpurge` command runs
    it (its garbage collector set as the command sets it): its summary and figures."""
    from syncpurge.cli import command

    out = io.StringIO()
    cpu_before = _cpu(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with (
        contextlib.redirect_stdout(out),
        open(os.devnull, "w") as quiet,
        contextlib.redirect_stderr(quiet),
    ):
        code = command(["reconcile", *cli_args])
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "mainCpuSeconds": _cpu(resource.RUSAGE_SELF) - cpu_before,
        "exitCode": code,
        "summary": json.loads(out.getvalue()),
        "peakRssMb": peak_rss_mb(),
    }


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def child_env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "PYTHONPATH": os.pathsep.join(PATHS),
    }


def cli_help() -> str:
    """`syncpurge reconcile --help`, as this checkout's CLI prints it."""
    code = "from syncpurge.cli import main; main(['reconcile', '--help'])"
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, check=False, env=child_env(), capture_output=True, text=True)
    return done.stdout


def help_default_workers(text: str) -> int | None:
    """The default the help gives for --workers ("(default: 8)", "default 8"), if any: read
    from the --workers option's own paragraph, up to the next option."""
    block = re.search(r"^ {2}--workers\b(.*?)(?=^ {2}-|\Z)", text, re.M | re.S)
    if block is None:
        return None
    match = re.search(r"default:?\s+(\d+)", " ".join(block.group(1).split()))
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- parent


class Bench:
    def __init__(self, endpoint: str, report: Path, log: ProxyLog) -> None:
        self.endpoint = endpoint
        self.report = report
        self.proxy = log

    def run(self, extra: list[str]) -> dict[str, Any]:
        """One reconcile in a child process; its result with the bench's own figures."""
        cli_args = [
            "--source-bucket", SOURCE, "--target-bucket", TARGET, "--endpoint-url",
            self.endpoint, "--region", REGION, "--json", "--report", str(self.report), *extra,
        ]  # fmt: skip
        kinds_before = Counter(self.proxy.kinds)
        children_before = _cpu(resource.RUSAGE_CHILDREN)
        self_before = _cpu(resource.RUSAGE_SELF)
        with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
            started = time.perf_counter()
            child = [sys.executable, __file__, "--child", "--result-file", result.name, "--"]
            subprocess.run([*child, *cli_args], check=True, env=child_env())
            process_seconds = time.perf_counter() - started
            figures: dict[str, Any] = json.loads(Path(result.name).read_text())
        proxied = Counter(self.proxy.kinds)
        proxied.subtract(kinds_before)
        figures.update(
            processSeconds=process_seconds,
            cpuSeconds=_cpu(resource.RUSAGE_CHILDREN) - children_before,
            serverCpuSeconds=_cpu(resource.RUSAGE_SELF) - self_before,
            proxy={"list": proxied["list"], "other": proxied["other"]},
            command=cli_args,
        )
        return figures


def derive(run: dict[str, Any], workers: int | None, list_latency: float, lower_bound: int) -> None:
    """The figures each run gets from its own measurements."""
    summary, requests = run["summary"], run["summary"]["requests"]
    cpus = os.cpu_count() or 1
    listed = summary["totals"]["sourceEntries"] + summary["totals"]["targetEntries"]
    streams = 2 * workers if workers else None
    spent = requests["list"] + requests["delete"]
    everything = sum(requests[k] for k in ("list", "delete", "verify", "head"))
    run.update(
        workers=workers,
        streams=streams,
        latencyFloorSeconds=run["proxy"]["list"] * list_latency / streams if streams else None,
        cpuFloorSeconds=run["cpuSeconds"] / cpus,
        listedEntries=listed,
        cpuMsPer1000Listed=1000 * run["cpuSeconds"] / (listed / 1000) if listed else None,
        listPlusDelete=spent,
        listPlusDeleteOverBound=spent / lower_bound,
        allRequests=everything,
        allRequestsOverBound=everything / lower_bound,
    )


def machine() -> dict[str, Any]:
    return {
        "cpuCount": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--entries", type=int, default=200_000, help="target keys (default 200,000)"
    )
    parser.add_argument("--vanished-fraction", type=float, default=0.01)
    parser.add_argument(
        "--list-latency", type=float, default=0.3, help="seconds before each LIST page"
    )
    parser.add_argument(
        "--other-latency", type=float, default=0.05, help="seconds before any other request"
    )
    parser.add_argument(
        "--workers-default",
        type=int,
        help="the workers of the default runs (default: no --workers flag, the CLI's own)",
    )
    parser.add_argument(
        "--skip-workers-1", action="store_true", help="debug: skip the workers-1 run"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    parser.add_argument("cli_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    sys.path[:0] = PATHS
    if args.child:
        Path(args.result_file).write_text(json.dumps(child_reconcile(args.cli_args)))
        return
    if args.entries < 1 or not 0 <= args.vanished_fraction < 1:
        parser.error("--entries must be >= 1 and --vanished-fraction in [0, 1)")
    if args.list_latency < 0 or args.other_latency < 0:
        parser.error("--list-latency and --other-latency can't be negative")
    if args.workers_default is not None and args.workers_default < 1:
        parser.error("--workers-default must be >= 1")

    help_text = cli_help()
    has_workers = "--workers" in help_text
    notes: list[str] = []
    if not has_workers:
        if args.workers_default is not None:
            parser.error("--workers-default: this checkout's `reconcile` has no --workers")
        notes.append(
            "reconcile --help has no --workers: the workers-1 run is skipped, the default "
            "runs pass no --workers, and their floor assumes 1 worker"
        )
    elif args.skip_workers_1:
        notes.append("the workers-1 run was skipped (--skip-workers-1)")
    if has_workers:
        default_workers = args.workers_default or help_default_workers(help_text)
        if default_workers is None:
            notes.append("the CLI's default workers aren't in its --help: no latency floor")
    else:
        default_workers = 1
    default_flags = (
        ["--workers", str(args.workers_default)] if args.workers_default is not None else []
    )

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer
    from tests.s3proxy import s3_proxy
    from tests.s3requests import Latency
    from tests.s3servers import free_port

    from syncpurge_local.moto_s3 import install_s3_paging

    def say(line: str) -> None:
        if not args.json:
            print(line, file=sys.stderr, flush=True)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    install_s3_paging()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    upstream = f"http://127.0.0.1:{port}"
    runs: dict[str, dict[str, Any]] = {}
    latency = Latency(list_seconds=args.list_latency, other_seconds=args.other_latency)
    try:
        client = boto3.client("s3", region_name=REGION, endpoint_url=upstream)
        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        for bucket in (SOURCE, TARGET):
            client.create_bucket(Bucket=bucket)
            client.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        say(f"building {args.entries:,} target keys ({args.vanished_fraction:.1%} vanished)...")
        vanished, s, t, _ = populate(backend, args.entries, args.vanished_fraction)
        d = 2 * len(vanished)
        with (
            tempfile.TemporaryDirectory() as tmp,
            s3_proxy(upstream, latency=latency) as (endpoint, proxy_log),
        ):
            bench = Bench(endpoint, Path(tmp), proxy_log)
            if has_workers and not args.skip_workers_1:
                say("reconcile --workers 1...")
                runs["workers-1"] = bench.run(["--force", "--workers", "1"])
                restore_vanished(backend, vanished)
            say(f"reconcile at the default ({' '.join(default_flags) or 'no --workers'})...")
            runs["default"] = bench.run(["--force", *default_flags])
            restore_vanished(backend, vanished)
            say("reconcile --dry-run at the default...")
            runs["dry-run"] = bench.run(["--dry-run", *default_flags])
            say("reconcile --apply-plan (the dry run's)...")
            run_id = runs["dry-run"]["summary"]["runId"]
            runs["apply-plan"] = bench.run(["--apply-plan", run_id, *default_flags])
    finally:
        server.stop()

    lower_bound = math.ceil(s / 1000) + math.ceil(t / 1000) + math.ceil(d / 1000)
    for name, run in runs.items():
        derive(run, 1 if name == "workers-1" else default_workers, args.list_latency, lower_bound)
    one, default = runs.get("workers-1"), runs["default"]
    figures: dict[str, Any] = {
        "machine": machine(),
        "entries": {"source": s, "target": t, "purged": d},
        "latency": {"listSeconds": args.list_latency, "otherSeconds": args.other_latency},
        "cliHasWorkers": has_workers,
        "defaultWorkers": default_workers,
        "defaultWorkersFrom": (
            "--workers-default"
            if args.workers_default is not None
            else "the CLI's --help"
            if has_workers
            else "assumed (no --workers)"
        ),
        "lowerBound": lower_bound,
        "runs": runs,
        "speedUp": one["seconds"] / default["seconds"] if one else None,
        "applyPlanListsOverDefault": (
            runs["apply-plan"]["summary"]["requests"]["list"]
            / default["summary"]["requests"]["list"]
        ),
        "notes": notes,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print_table(figures)


if __name__ == "__main__":
    main()
