"""Keys too long for one Lambda invocation, through the real state machine (issue 8,
defect 10): the Diff step stops inside a key and resumes from its cursor; the plan of a
long key may be split over chunks, and its current entry still goes last, and only when
nothing else of the key is left."""

from __future__ import annotations

import pytest

from syncpurge.core import listing
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.models import Entry, Outcome, PlannedEntry, Rule
from syncpurge.phases.purge import PurgeSettings, purge_plan
from syncpurge_local.runtime import LocalRuntime
from tests.helpers import BucketPair
from tests.workflow.conftest import deploy

pytestmark = pytest.mark.workflow

ALL = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True, "skipSync": True}


def test_a_diff_budget_of_zero_stops_inside_long_keys_and_purges_them_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def scenario(budget: float) -> tuple[set[tuple[str, str, str]], set[str], int]:
        with LocalRuntime(lambda_budget_seconds=budget) as runtime:
            deployed = deploy(runtime)
            pair = deployed.pair
            for n in range(45):
                pair.put("dir/long-gone", f"v{n}", bucket=pair.target)
            pair.put("dir/kept", "x")
            pair.put("dir/kept", "x", bucket=pair.target)
            result = deployed.run(ALL)
            assert result.status == "SUCCEEDED", result.cause
            _, lines = deployed.report(result)
            slices = sum(1 for step, _ in runtime.invocations if step == "diff")
            outcomes = {(line["key"], line["versionId"], line["outcome"]) for line in lines}
            return outcomes, pair.all_keys(), slices

    monkeypatch.setattr(listing, "KEY_SEGMENT_ENTRIES", 10)
    one_pass, left_one_pass, one_pass_slices = scenario(900.0)
    looped, left_looped, looped_slices = scenario(0.0)

    assert len(one_pass) == 45
    assert {outcome for _, _, outcome in looped} == {"purged"}
    assert len(looped) == 45
    assert left_looped == left_one_pass == {"dir/kept"}
    assert looped_slices >= one_pass_slices + 4  # stopped inside the 45-entry key


def split_plan(pair: BucketPair, key: str) -> tuple[list[PlannedEntry], PlannedEntry]:
    """A key's plan as two chunks would hold it: its noncurrent entries, its current one."""
    entries = [
        *(
            Entry(v["Key"], v["VersionId"], v["IsLatest"], v["LastModified"], False, v["Size"])
            for v in pair.client.list_object_versions(Bucket=pair.target)["Versions"]
        ),
    ]
    planned = [
        PlannedEntry(e, Rule.VANISHED_KEY, "test", key_entries=len(entries))
        for e in entries
        if e.key == key
    ]
    current = next(p for p in planned if p.entry.is_latest)
    return [p for p in planned if p is not current], current


def purge(pair: BucketPair, plan: list[PlannedEntry]) -> list[str]:
    store = S3Store(pair.client, RequestCounter())
    outcomes: list[str] = []
    purge_plan(
        plan,
        source=store,
        target=store,
        settings=PurgeSettings(target_bucket=pair.target, source_bucket=pair.source),
        on_outcome=lambda record: outcomes.append(
            record.outcome.value if record.outcome is Outcome.PURGED else record.reason
        ),
    )
    return outcomes


@pytest.mark.usefixtures("aws")
def test_a_current_entry_planned_apart_from_its_key_goes_only_when_nothing_else_is_left(
    pair: BucketPair,
) -> None:
    # Given a key of three versions whose plan another chunk holds the first part of
    for body in ("a", "b", "c"):
        pair.put("long", body, bucket=pair.target)
    others, current = split_plan(pair, "long")

    # When the chunk with only its current entry is purged first, it stays
    assert purge(pair, [current]) == ["protects-current"]
    assert len(pair.entries()) == 3

    # When the other chunk has been purged, the current entry goes
    assert purge(pair, others) == ["purged", "purged"]
    assert purge(pair, [current]) == ["purged"]
    assert pair.entries() == set()
