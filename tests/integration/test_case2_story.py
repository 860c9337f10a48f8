"""The seed's Case 2 (DataSync), end to end on moto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.models import RunStatus
from tests.engine_runs import run_engine
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration

# Most scenarios here hold only leftovers in the target; a source with nothing in common is
# refused unless allowed (docs/design.md §5 "Unrelated source"), which has its own tests.
ALL = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}


def test_leftover_marker_and_version_of_a_permanently_deleted_key_are_purged(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given the seed's Case 2 (a.txt's marker and version left in the target)
    pair.seed_case_2()
    before = pair.entries()
    leftover = {e for e in before if e[0] == "a.txt"}
    assert len(leftover) == 2  # the target kept a marker and a noncurrent version

    # When syncpurge runs (a tiny bucket: the default 5% guard would trip, see test_guard)
    result, lines = run_engine(pair, tmp_path, ALL)

    # Then exactly a.txt's leftovers are gone, a.txt.bak untouched, the source unchanged
    assert result.summary.status is RunStatus.SUCCEEDED
    assert pair.entries() == before - leftover
    assert {line["key"] for line in lines} == {"a.txt"}
    assert {line["outcome"] for line in lines} == {"purged"}
    assert {line["rule"] for line in lines} == {"vanished-key"}
    totals = result.summary.totals
    assert (totals.planned, totals.purged, totals.failed) == (2, 2, 0)
    assert totals.bytes_reclaimed == len("hello")
    summary = json.loads((tmp_path / result.summary.run_id / "summary.json").read_text())
    assert summary["status"] == "SUCCEEDED"
    assert summary["totals"]["purged"] == 2
    assert summary["byRule"]["vanished-key"]["purged"] == 2


def test_second_run_plans_nothing(pair: BucketPair, tmp_path: Path) -> None:
    pair.seed_case_2()
    run_engine(pair, tmp_path / "first", ALL)

    result, lines = run_engine(pair, tmp_path / "second", ALL)

    assert result.summary.totals.planned == 0
    assert lines == []
