"""One prefix fans out by key range: probes on a first run, recorded boundaries after.

Item sizes are scaled down (the real ones are tens of thousands of entries) so that a
1,000-key bucket under `data/` cuts into several items; the plan must be the same as a
single item's, and the second run must cut on what the first one recorded.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from syncpurge.phases import cutting
from syncpurge.workflow import ranges, recut
from syncpurge_local.runtime import LocalRuntime
from tests.workflow.conftest import Deployed, deploy

pytestmark = pytest.mark.workflow

KEYS = 1_000


def populate(deployed: Deployed) -> None:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    source, target = deployed.pair.source, deployed.pair.target
    for i in range(KEYS):
        key = f"data/{i:06d}.json"
        if i % 50 == 7:  # vanished: its version and DataSync's marker stay in the target
            backend.put_object(target, key, b"gone")
            backend.delete_object(target, key)
            continue
        if i % 30 == 0:  # a version the source erased, of another size
            backend.put_object(target, key, b"older and longer")
        backend.put_object(source, key, f"v{i}".encode())
        backend.put_object(target, key, f"v{i}".encode())


def plan_lines(deployed: Deployed, request: dict[str, Any]) -> tuple[set[tuple[Any, ...]], Any]:
    result = deployed.run({"skipSync": True, "maxPurgeFraction": 1.0, **request})
    assert result.status == "SUCCEEDED", result.cause
    summary, lines = deployed.report(result)
    rows = {(line["key"], line["versionId"], line["rule"], line["proof"]) for line in lines}
    return rows, summary


def plan_stats(runtime: LocalRuntime, deployed: Deployed) -> tuple[int, str, list[int]]:
    """The last run's item count, where its cuts came from, and entries listed per item."""
    s3 = deployed.pair.client
    executions = sorted(
        o["Key"]
        for o in s3.list_objects_v2(Bucket="syncpurge-reports", Prefix="syncpurge-work/")[
            "Contents"
        ]
        if o["Key"].endswith("plan-stats.json")
    )
    newest = max(
        executions,
        key=lambda k: s3.head_object(Bucket="syncpurge-reports", Key=k)["LastModified"],
    )
    stats = json.loads(s3.get_object(Bucket="syncpurge-reports", Key=newest)["Body"].read())
    workspace = newest.removesuffix("plan-stats.json")
    sizes: dict[int, int] = {}
    for o in s3.list_objects_v2(Bucket="syncpurge-reports", Prefix=workspace + "diff-stats/")[
        "Contents"
    ]:
        doc = json.loads(s3.get_object(Bucket="syncpurge-reports", Key=o["Key"])["Body"].read())
        item = int(o["Key"].rsplit("/", 1)[1].split("-")[0])
        sizes[item] = sizes.get(item, 0) + doc["sourceEntries"] + doc["targetEntries"]
    return stats["items"], stats["cutFrom"], [sizes[i] for i in sorted(sizes)]


def test_one_prefix_fans_out_and_plans_what_one_item_plans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalRuntime() as runtime:
        deployed = deploy(runtime)
        populate(deployed)

        # Given items of 170 target entries on a first run and 150 entries after
        monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 170)
        monkeypatch.setattr(ranges, "RECORDED_ENTRIES", 150)
        monkeypatch.setattr(ranges, "MIN_SAMPLE_EVERY", 10)

        # When a first run cuts by probes
        first, _ = plan_lines(deployed, {"dryRun": True})
        items, cut_from, sizes = plan_stats(runtime, deployed)
        assert cut_from == "probes"
        assert items >= 6
        assert max(sizes) <= 2 * sum(sizes) / len(sizes)

        # And a second run cuts on the first run's recorded boundaries
        second, _ = plan_lines(deployed, {"dryRun": True})
        items2, cut_from2, sizes2 = plan_stats(runtime, deployed)
        assert cut_from2 == "samples"
        assert items2 >= 12
        assert max(sizes2) <= 1.3 * sum(sizes2) / len(sizes2)

        # Then both plan exactly what a single item plans
        monkeypatch.setattr(ranges, "RECORDED_ENTRIES", 10**9)
        single, _ = plan_lines(deployed, {"dryRun": True})
        assert plan_stats(runtime, deployed)[0] == 1
        assert first == second == single
        assert len(single) == 2 * len(range(7, KEYS, 50)) + len(range(0, KEYS, 30))

        # And purging over ranges leaves nothing for the next run
        monkeypatch.setattr(ranges, "RECORDED_ENTRIES", 150)
        _, purged = plan_lines(deployed, {})
        assert purged["totals"]["purged"] == len(single)
        _, again = plan_lines(deployed, {})
        assert again["totals"]["planned"] == 0


def test_items_that_overrun_hand_back_and_the_pieces_plan_what_one_item_plans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalRuntime() as runtime:
        deployed = deploy(runtime)
        populate(deployed)
        monkeypatch.setattr(ranges, "MIN_SAMPLE_EVERY", 10)
        monkeypatch.setattr(ranges, "RECORDED_ENTRIES", 10**9)
        single, whole = plan_lines(deployed, {"dryRun": True})

        # Given first-run items of 170 target entries that hand the rest of their range
        # back after half of it, re-cut into pieces of 60 entries
        monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 170)
        monkeypatch.setattr(recut, "OVERRUN", 0.5)
        monkeypatch.setattr(recut, "FIRST_WAVE_PLANNED", 60)
        deployed.pair.client.delete_object(
            Bucket="syncpurge-reports", Key=boundary_pointer(deployed)
        )

        # When a first run cuts by probes
        first, summary = plan_lines(deployed, {"dryRun": True})

        # Then items handed back, in pieces, over more than one wave
        waves = summary["recut"]
        assert waves["items"] >= 3
        assert waves["pieces"] > waves["items"]
        assert waves["waves"] >= 2
        # And the plan is exactly one item's, every entry listed once
        assert first == single
        for figure in ("sourceEntries", "targetEntries"):
            assert summary["totals"][figure] == whole["totals"][figure]
        assert whole["recut"] == {"waves": 1, "items": 0, "pieces": 0}


def boundary_pointer(deployed: Deployed) -> str:
    """The deployment's recorded-boundaries pointer (so the next run cuts by probes)."""
    listed = deployed.pair.client.list_objects_v2(
        Bucket="syncpurge-reports", Prefix="syncpurge-work/boundaries/"
    )
    (only,) = listed["Contents"]
    return str(only["Key"])
