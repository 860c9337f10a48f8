"""Helpers of the erasure tests: buckets, the `erase` command's flags, its receipt."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from syncpurge.cli import EXIT_OK, main
from syncpurge.erasure.receipt import BucketMapping, ErasureInputs, KeyReceipt, Receipt, Totals

if TYPE_CHECKING:
    from syncpurge_local.runtime import ExecutionResult
    from tests.workflow.conftest import Deployed
from tests.helpers import make_versioned_bucket, run_folders

# A key every bucket of these tests holds, at its root: the source and its copies are
# related (an erasure refuses a source that shares no key with a copy, docs/erasure.md).
LIVE = "live.txt"


def buckets(s3: Any, *names: str, object_lock: bool = False) -> None:
    for name in names:
        make_versioned_bucket(s3, name, object_lock=object_lock)
        s3.put_object(Bucket=name, Key=LIVE, Body=b"live")


def keys_in(s3: Any, bucket: str) -> list[str]:
    """Every entry's key (a version or a delete marker), once per entry, sorted; but LIVE,
    which must still be there, once."""
    found: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        found += [v["Key"] for v in page.get("Versions", [])]
        found += [m["Key"] for m in page.get("DeleteMarkers", [])]
    assert found.count(LIVE) == 1, f"{LIVE} was touched in {bucket}"
    return sorted(k for k in found if k != LIVE)


def erase_flags(report: Path, source: str, *targets: str, keys: tuple[str, ...] = ()) -> list[str]:
    flags = ["erase", "--source", source, "--report", str(report), "--region", "us-east-1"]
    for target in targets:
        flags += ["--target", target]
    for key in keys:
        flags += ["--key", key]
    return flags


def the_receipt(report: Path) -> tuple[Path, dict[str, Any]]:
    """The one erasure folder's receipt.json: its path and its receipt."""
    (folder,) = [f for f in run_folders(report) if (f / "receipt.json").exists()]
    path = folder / "receipt.json"
    return path, json.loads(path.read_text(encoding="utf-8"))["receipt"]


def part(receipt: dict[str, Any], key: str, bucket: str) -> dict[str, Any]:
    """One key's part of the receipt in one bucket."""
    (found,) = [
        b for k in receipt["keys"] if k["key"] == key for b in k["buckets"] if b["bucket"] == bucket
    ]
    return found


def a_receipt(
    keys: list[KeyReceipt],
    *,
    source: tuple[str, str] = ("src", ""),
    targets: tuple[tuple[str, str], ...] = (("copy", ""),),
    erasure_id: str = "20261207T120000Z-abcdef",
    at: datetime = datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
    totals: Totals | None = None,
) -> Receipt:
    """A receipt of these keys' parts, as an erasure of one source and its copies writes it
    (the totals: none, unless given)."""
    return Receipt(
        erasure_id=erasure_id,
        started_at=at,
        finished_at=at,
        tool="syncpurge 0.1.0",
        caller="arn:aws:iam::123456789012:user/dpo",
        inputs=ErasureInputs(
            keys=[k.key for k in keys],
            source=BucketMapping(bucket=source[0], root=source[1]),
            targets=[BucketMapping(bucket=b, root=r) for b, r in targets],
            max_purge=100_000,
            force=False,
            bypass_governance=False,
        ),
        totals=totals or Totals(keys=len(keys), purged=0, retained=0, failed=0, not_found=0),
        keys=keys,
    )


def erased_subject(s3: Any, report: Path, keys: tuple[str, ...]) -> tuple[Path, dict[str, Any]]:
    """`keys` held by the copy `copy` alone, erased through the CLI (source `src`, both
    related by LIVE): the receipt's path and its receipt."""
    buckets(s3, "src", "copy")
    for key in keys:
        s3.put_object(Bucket="copy", Key=key, Body=b"x")
    assert main(erase_flags(report, "s3://src/", "s3://copy/", keys=keys)) == EXIT_OK
    return the_receipt(report)


def erased_on(deployed: Deployed, key: str = "subject.txt") -> ExecutionResult:
    """`key`, held by the deployment's target alone, erased through its state machine."""
    pair = deployed.pair
    pair.put_live()
    pair.put(key, "x", bucket=pair.target)
    result = deployed.run({"erase": {"keys": [key]}})
    assert result.status == "SUCCEEDED", result.cause
    return result
