"""Benchmark: CPU per 1,000-entry ListObjectVersions page, from the HTTP body to Entries.

    python tests/benchmarks/bench_listing_cpu.py [--entries 1000] [--pages 10]
        [--repeats 7] [--top 12] [--json]

One realistic page (`tests/listing_pages.py`: versions and delete markers, plain and
multipart ETags, sizes, owners, EncodingType=url keys with spaces, '+', '%' and
non-ASCII), measured in the same run as:

- botocore_stock: botocore's RestXMLParser as it comes (dateutil timestamps): the baseline;
- botocore_string_times: the same, timestamps left as strings (the floor for them);
- botocore_syncpurge_times: the same with syncpurge's timestamp parser;
- listing_parser: syncpurge's ListingParser (`syncpurge.data.listing_parser`, the
  parser of `make_s3_client`'s clients) with syncpurge's timestamp parser: one pass over
  the tree instead of botocore's shape walk;
- xml_tokenise_no_gc: ElementTree alone over the body (botocore does it twice a page: to
  parse, and in its check for an error inside a 200 answer);
- timestamps_stock, timestamps_syncpurge: the page's LastModified strings alone;
- url_decode: the page's keys URL-decoded, as botocore does for EncodingType=url;
- entries: `page_entries` on a parsed page;
- engine_stock: `S3Store.list_pages` over a client with botocore's default parser: the
  request built and signed, answered with the page before anything leaves the process,
  parsed, keys URL-decoded, Entries built;
- engine_botocore_parser: the same over a client of botocore's RestXMLParser with
  syncpurge's timestamp parser (what `make_s3_client` gave before ListingParser);
- engine_syncpurge: the same over `make_s3_client`'s client: what a run spends;
- engine_syncpurge_gc_frozen: the same, everything alive before each page frozen
  (gc.freeze, as a CLI can do once set up): the collector no longer walks botocore's models;
- engine_syncpurge_gc_cli: the same with the collector as the `syncpurge` command sets
  it (`syncpurge.cli.command`: frozen, and YOUNG_OBJECTS_PER_COLLECTION young objects a
  pass): what a CLI run spends;
- engine_empty_page: the same for a page of no entries (a request's fixed cost).

The `_gc_` cases change the collector for their own pages only. `_no_gc` cases run with
the garbage collector off: parsing makes ~20,000 objects a page
and the collector's passes over them are a cost of their own, which the breakdown shows
once (engine_syncpurge less engine_syncpurge_no_gc) rather than inside each part.

CPU is time.process_time; the cases take turns within each repeat (background load
falls on all alike) and each figure is the median over repeats, per 1,000 entries. Then
cProfile of engine_syncpurge with the collector off, its time grouped by where it goes
(profiling inflates Python code against C: read the shares, not the ms). Asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import itertools
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
BASELINE = "botocore_stock"

Case = Callable[[], object]


# --------------------------------------------------------------------------- the cases


def parser_cases(body: bytes) -> dict[str, Case]:
    from urllib.parse import unquote_plus

    import botocore.session
    from botocore.parsers import RestXMLParser
    from botocore.utils import parse_timestamp as stock_time

    from syncpurge.data.clients import parse_timestamp
    from syncpurge.data.listing_parser import ListingParser
    from syncpurge.data.s3shapes import page_entries

    model = botocore.session.get_session().get_service_model("s3")
    shape = model.operation_model("ListObjectVersions").output_shape
    response = {"body": body, "headers": {}, "status_code": 200}
    stock, as_string = RestXMLParser(), RestXMLParser(timestamp_parser=str)
    ours = RestXMLParser(timestamp_parser=parse_timestamp)
    listing = ListingParser(timestamp_parser=parse_timestamp)
    raw = _all_rows(as_string.parse(response, shape))
    times, keys = [v["LastModified"] for v in raw], [v["Key"] for v in raw]
    parsed = ours.parse(response, shape)
    return {
        BASELINE: lambda: stock.parse(response, shape),
        "botocore_string_times": lambda: as_string.parse(response, shape),
        "botocore_string_times_no_gc": lambda: _without_gc(
            lambda: as_string.parse(response, shape)
        ),
        "botocore_syncpurge_times": lambda: ours.parse(response, shape),
        "listing_parser": lambda: listing.parse(response, shape),
        "listing_parser_no_gc": lambda: _without_gc(lambda: listing.parse(response, shape)),
        "xml_tokenise_no_gc": lambda: _without_gc(lambda: _tokenise(body)),
        "timestamps_stock": lambda: [stock_time(t) for t in times],
        "timestamps_syncpurge": lambda: [parse_timestamp(t) for t in times],
        "url_decode": lambda: [unquote_plus(k) for k in keys],
        "entries": lambda: page_entries(parsed),
    }


def _all_rows(page: dict[str, Any]) -> list[dict[str, Any]]:
    return list(page.get("Versions") or ()) + list(page.get("DeleteMarkers") or ())


def _tokenise(body: bytes) -> object:
    from xml.etree import ElementTree

    parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(), encoding="utf-8")
    parser.feed(body)
    return parser.close()


def engine_cases(rows: list[Any]) -> dict[str, Case]:
    """Each call lists one more page through S3Store.list_pages, on an endless listing."""
    import boto3
    import botocore.session

    from syncpurge.data.clients import RETRY_CONFIG, make_s3_client, parse_timestamp

    def botocore_client(**parser_defaults: Any) -> Any:
        core = botocore.session.get_session()
        core.get_component("response_parser_factory").set_parser_defaults(**parser_defaults)
        session = boto3.session.Session(botocore_session=core)
        return session.client("s3", region_name=REGION, config=RETRY_CONFIG)

    def ours() -> Case:
        return _next_page(make_s3_client(region=REGION), rows)

    no_gc, frozen, raised = ours(), ours(), ours()
    return {
        "engine_stock": _next_page(botocore_client(), rows),
        "engine_botocore_parser": _next_page(
            botocore_client(timestamp_parser=parse_timestamp), rows
        ),
        "engine_syncpurge": ours(),
        "engine_syncpurge_no_gc": lambda: _without_gc(no_gc),
        "engine_syncpurge_gc_frozen": lambda: _gc_frozen(frozen),
        "engine_syncpurge_gc_cli": lambda: _gc_as_the_cli(raised),
        "engine_empty_page": _next_page(make_s3_client(region=REGION), []),
    }


def _without_gc(run: Case) -> object:
    gc.disable()
    try:
        return run()
    finally:
        gc.enable()


def _gc_frozen(run: Case) -> object:
    gc.freeze()
    try:
        return run()
    finally:
        gc.unfreeze()


def _gc_as_the_cli(run: Case) -> object:
    from syncpurge.cli import YOUNG_OBJECTS_PER_COLLECTION

    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_PER_COLLECTION, *before[1:])
    try:
        return run()
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _next_page(client: Any, rows: list[Any]) -> Case:
    from listing_pages import list_versions_xml, serve_listings
    from syncpurge.data.s3store import S3Store

    # Two answers taken in turn, so each page names a next marker other than the last's
    # (botocore's paginator stops on a repeated one) and building them costs nothing here.
    both = [list_versions_xml(rows, truncated=True, next_key=k) for k in ("m/a", "m/b")]
    serve_listings(client, itertools.cycle(both).__next__)
    pages: Iterator[Any] = S3Store(client).list_pages("bucket", "")
    return lambda: next(pages)


# --------------------------------------------------------------------------- measuring


def measure(cases: dict[str, Case], pages: int, repeats: int) -> dict[str, list[float]]:
    """CPU seconds per page of each case, one sample per repeat."""
    for run in cases.values():
        run()  # warm: imports, caches, first-call costs
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            gc.collect()
            started = time.process_time()
            for _ in range(pages):
                run()
            samples[name].append((time.process_time() - started) / pages)
    return samples


def figures(samples: dict[str, list[float]], entries: int) -> dict[str, dict[str, float]]:
    """ms of CPU per 1,000 entries: median and min over repeats, and median / baseline."""
    scale = 1000 * 1000 / entries
    base = statistics.median(samples[BASELINE])
    return {
        name: {
            "median_ms": round(statistics.median(s) * scale, 2),
            "min_ms": round(min(s) * scale, 2),
            "vs_baseline": round(statistics.median(s) / base, 3),
        }
        for name, s in samples.items()
    }


def breakdown(fig: dict[str, dict[str, float]]) -> dict[str, float]:
    """Where a page's CPU goes, by difference of the medians (no profiler overhead)."""

    def ms(name: str) -> float:
        return fig[name]["median_ms"]

    xml = ms("xml_tokenise_no_gc")
    parts = {
        "xml_tokenise_twice": 2 * xml,  # to parse, and botocore's 200-error check
        # ListingParser's pass over the tree, its timestamps included
        "listing_parser_walk": ms("listing_parser_no_gc") - xml,
        "url_decode_keys": ms("url_decode"),
        "entries": ms("entries"),
        "request_build_sign_paginate": ms("engine_empty_page"),
        "garbage_collection": ms("engine_syncpurge") - ms("engine_syncpurge_no_gc"),
    }
    parts["rest"] = ms("engine_syncpurge") - sum(parts.values())
    parts["engine_syncpurge"] = ms("engine_syncpurge")
    parts["stock_timestamps"] = ms("timestamps_stock")
    parts["botocore_shape_walk"] = ms("botocore_string_times_no_gc") - xml
    parts["saved_by_syncpurge_parsers"] = ms("engine_stock") - ms("engine_syncpurge")
    parts["saved_by_listing_parser"] = ms("engine_botocore_parser") - ms("engine_syncpurge")
    parts["garbage_collection_frozen"] = ms("engine_syncpurge_gc_frozen") - ms(
        "engine_syncpurge_no_gc"
    )
    parts["garbage_collection_as_the_cli"] = ms("engine_syncpurge_gc_cli") - ms(
        "engine_syncpurge_no_gc"
    )
    return {k: round(v, 2) for k, v in parts.items()}


# --------------------------------------------------------------------------- profiling

BUCKETS = (  # first match wins, on "file:function"
    ("timestamps", ("data/clients.py", "dateutil", "fromisoformat", "'fullmatch'")),
    ("xml tokenising", ("XMLParser", "TreeBuilder", "Element")),
    ("listing parser", ("listing_parser.py",)),
    ("botocore response parsing", ("botocore/parsers.py",)),
    ("keys URL-decoded", ("urllib/parse.py", "_decode_list_object", "decode_list_object")),
    ("Entries built", ("s3shapes.py", "<string>:__init__", "'sort'", "_entry_key")),
    ("request: build, sign, hooks, paging", ("botocore/", "boto3/", "s3store.py", "hmac")),
)


def profile(run: Case, pages: int, top: int) -> tuple[dict[str, float], list[str]]:
    """Shares of engine_syncpurge's profiled time by bucket, and its top functions."""
    profiler = cProfile.Profile()
    gc.disable()  # its passes would land on whatever allocates when they fall due
    profiler.enable()
    for _ in range(pages):
        run()
    profiler.disable()
    gc.enable()
    stats = pstats.Stats(profiler)
    totals: dict[str, float] = {}
    for func, (_, _, tottime, _, callers) in stats.stats.items():  # type: ignore[attr-defined]
        for where, seconds in _attributed(func, tottime, callers):
            bucket = _bucket(where)
            totals[bucket] = totals.get(bucket, 0.0) + seconds
    whole = sum(totals.values()) or 1.0
    shares = {k: round(v / whole, 3) for k, v in sorted(totals.items(), key=lambda i: -i[1])}
    return shares, _top(stats, top)


def _attributed(func: tuple[str, int, str], tottime: float, callers: dict[Any, Any]) -> Any:
    """A C builtin's time goes to whoever called it (dict.get serves every bucket)."""
    if func[0] != "~" or _bucket(func) != "other" or not callers:
        return [(func, tottime)]
    return [(caller, edge[2]) for caller, edge in callers.items()]


def _bucket(func: tuple[str, int, str]) -> str:
    name = f"{func[0]}:{func[2]}"
    for bucket, needles in BUCKETS:
        if any(needle in name for needle in needles):
            return bucket
    return "other"


def _top(stats: pstats.Stats, top: int) -> list[str]:
    rows = sorted(stats.stats.items(), key=lambda i: -i[1][2])[:top]  # type: ignore[attr-defined]
    return [
        f"{tt * 1000:9.1f} ms  {ncalls:8d}  {_short(func)}" for func, (_, ncalls, tt, _, _) in rows
    ]


def _short(func: tuple[str, int, str]) -> str:
    path = func[0].split("site-packages/")[-1].split("lambdas/")[-1]
    return f"{path}:{func[1]}({func[2]})" if path != "~" else func[2]


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000, help="entries per page")
    parser.add_argument("--pages", type=int, default=10, help="pages per sample")
    parser.add_argument("--repeats", type=int, default=7, help="samples per case")
    parser.add_argument("--top", type=int, default=12, help="functions to list from cProfile")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path[:0] = [str(REPO / "lambdas"), str(REPO / "tests")]
    # Signed with made-up keys; nothing leaves the process.
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else render(result))


def run(args: argparse.Namespace) -> dict[str, Any]:
    import botocore

    from listing_pages import list_versions_xml, realistic_rows

    rows = realistic_rows(args.entries)
    cases = parser_cases(list_versions_xml(rows)) | engine_cases(rows)
    fig = figures(measure(cases, args.pages, args.repeats), args.entries)
    shares, top = profile(cases["engine_syncpurge"], args.pages, args.top)
    return {
        "entries_per_page": args.entries,
        "markers": sum(r.marker for r in rows),
        "pages_per_sample": args.pages,
        "repeats": args.repeats,
        "python": sys.version.split()[0],
        "botocore": botocore.__version__,
        "cpu_ms_per_1000_entries": fig,
        "breakdown_ms": breakdown(fig),
        "profile_share_engine_syncpurge": shares,
        "profile_top": top,
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{result['entries_per_page']} entries a page ({result['markers']} delete markers), "
        f"python {result['python']}, botocore {result['botocore']}; CPU ms per 1,000 entries, "
        f"median (min) of {result['repeats']} x {result['pages_per_sample']} pages:"
    ]
    for name, f in result["cpu_ms_per_1000_entries"].items():
        lines.append(
            f"  {name:26s} {f['median_ms']:8.2f} ({f['min_ms']:.2f})  x{f['vs_baseline']:.3f}"
        )
    lines.append("breakdown (ms, differences of medians):")
    lines += [f"  {k:34s} {v:8.2f}" for k, v in result["breakdown_ms"].items()]
    lines.append("cProfile of engine_syncpurge (collector off), share of profiled time:")
    lines += [f"  {k:38s} {v:6.1%}" for k, v in result["profile_share_engine_syncpurge"].items()]
    lines.append("top functions by own time (profiled):")
    lines += ["  " + line for line in result["profile_top"]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
