"""Benchmark: permanent deletes through the event path (issue 20).

    python tests/benchmarks/bench_events.py [--keys 10000] [--batch 10] [--json]

Builds, on in-process moto (paging as S3 does), N keys whose two versions DataSync copied,
then permanently deletes each key's first version at the source, `--batch` deletes at a
time, each batch's events handed at once to the event path (as one SQS delivery of that
many records, the hold at 0). Prints the requests per event key (LIST, verify LIST, HEAD,
DeleteObjects) beside the seed's per-key Lambda, which spends 2 a key (ListObjectVersions
Prefix=key, then DeleteObjects) and proves nothing, and the p50 / p99 seconds from an
event to its delete. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.events.holds import MemoryHolds
from syncpurge.events.notices import DeletionNotice
from syncpurge.events.path import (
    BrakeState,
    EventScope,
    EventSettings,
    EventState,
    process_notices,
)
from syncpurge.models import ReconcileRequest
from syncpurge.phases.deletes import PurgeSettings
from syncpurge_local.datasync_copy import copy_like_datasync
from syncpurge_local.moto_s3 import s3_paging

SOURCE, TARGET = "bench-src", "bench-dst"


def build(s3: Any, keys: int) -> dict[str, str]:
    """Each key written and synced twice; returns key -> its first source VersionId."""
    for bucket in (SOURCE, TARGET):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = {}
    for generation in ("one", "two"):
        for n in range(keys):
            key = f"data/{n:07d}.bin"
            answer = s3.put_object(Bucket=SOURCE, Key=key, Body=f"{generation}-{n}".encode())
            first.setdefault(key, answer["VersionId"])
        copy_like_datasync(s3, SOURCE, TARGET, folder_objects=False)
    return first


def run(keys: int, batch: int) -> dict[str, Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    with mock_aws(), s3_paging():
        s3 = boto3.client("s3", region_name="us-east-1")
        started = time.monotonic()
        first = build(s3, keys)
        built = time.monotonic() - started
        counter = RequestCounter()
        store = S3Store(s3, counter)
        where = EventScope(SOURCE, TARGET, Scope(), ReconcileRequest())
        state = EventState(MemoryHolds(), BrakeState())
        latencies: list[float] = []
        purged = 0
        items = sorted(first.items())
        started = time.monotonic()
        for at in range(0, len(items), batch):
            notices = []
            for key, version_id in items[at : at + batch]:
                s3.delete_object(Bucket=SOURCE, Key=key, VersionId=version_id)
                notices.append(
                    DeletionNotice(SOURCE, key, version_id, datetime.now(UTC), f"e-{key}")
                )
            result = process_notices(
                notices,
                now=datetime.now(UTC) + timedelta(seconds=1),
                where=where,
                settings=EventSettings(timedelta(0), keys * 10),
                state=state,
                source=store,
                target=store,
                purge=PurgeSettings(target_bucket=TARGET, source_bucket=SOURCE),
                clock=lambda: datetime.now(UTC),
            )
            purged += result.purged
            latencies += result.latencies
        decided = time.monotonic() - started
    counts = counter.snapshot().model_dump()
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    return {
        "keys": keys,
        "batch": batch,
        "purged": purged,
        "requests": counts,
        "perEventKey": {name: round(value / keys, 3) for name, value in counts.items()},
        "seedPerKeyLambda": {"list": 1.0, "delete": 1.0, "proofs": "none"},
        "latencyP50": cuts[49] if cuts else None,
        "latencyP99": cuts[98] if cuts else None,
        "buildSeconds": round(built, 1),
        "eventPathSeconds": round(decided, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=10, help="events per delivery")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.keys, args.batch)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['keys']:,} permanent deletes, {figures['batch']} events a delivery, hold 0")
    print(f"  purged {figures['purged']:,} target versions (each with its proof)")
    print("  requests per event key:")
    for name, value in sorted(figures["perEventKey"].items()):
        print(f"    {name:8} {value:6.3f}")
    total = sum(figures["perEventKey"].values())
    print(f"    {'all':8} {total:6.3f}   (seed's per-key Lambda: 2.000, and no proof)")
    print(
        f"  seconds from event to delete: p50 {figures['latencyP50']:.3f}, "
        f"p99 {figures['latencyP99']:.3f}"
    )
    print(
        f"  (building the buckets took {figures['buildSeconds']} s; the event path "
        f"{figures['eventPathSeconds']} s)"
    )


if __name__ == "__main__":
    main()
