"""Lineage fails safe (DESIGN §3.3): task reports that match no surviving source version of
a key are set aside for it, the other tiers prove, and the report's advisories say so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from syncpurge.lineage import LineageIndex
from syncpurge.source_facts import Origin
from tests.helpers import BucketPair, run_engine

pytestmark = pytest.mark.integration

ALL = {"maxPurgeFraction": 1.0}


def test_reports_whose_times_disagree_with_the_source_are_not_trusted(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given a key whose target copies' records carry an Mtime an hour off S3's LastModified
    pair.put("doc", "AAAAA")
    old = pair.put("doc", "BBBBBBBBB", bucket=pair.target)
    current = pair.put("doc", "AAAAA", bucket=pair.target)
    (source_version,) = pair.client.list_object_versions(Bucket=pair.source)["Versions"]
    skewed = source_version["LastModified"].astimezone(UTC).replace(microsecond=0)
    skewed += timedelta(hours=1)
    lineage = LineageIndex(
        [
            (current, Origin("doc", 5, skewed, None)),
            (old, Origin("doc", 9, datetime(2020, 1, 1, tzinfo=UTC), None)),
        ]
    )

    result, lines = run_engine(pair, tmp_path, ALL, lineage=lineage)

    # Then the old copy is purged by size, not lineage, and the report says why
    assert [(line["versionId"], line["proof"]) for line in lines] == [(old, "size")]
    assert any("lineage not trusted on 1 key" in a for a in result.summary.advisories)
