"""Plan's landmarks on S3's own listing (moto): a level of folders read over several pages of
ListObjectVersions with a delimiter, each page starting past every key of the last folder."""

from __future__ import annotations

import pytest

from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.phases import cutting
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration

SHARED = "exports/tables/events_v2/output/"


def batches(pair: BucketPair, count: int) -> list[str]:
    """`count` folders with unpadded numbers, two keys each, in the target."""
    for i in range(count):
        for part in ("a", "b"):
            pair.put(f"{SHARED}batch{i}/{part}", bucket=pair.target)
    return sorted(f"{SHARED}batch{i}/" for i in range(count))


def test_a_level_of_folders_is_read_whole_over_pages_and_only_then_counts_as_complete(
    pair: BucketPair,
) -> None:
    # Given 250 folders at one level, and pages of 100
    folders = batches(pair, 250)
    store = S3Store(pair.client, RequestCounter(), page_size=100)

    # When Plan reads up to 32 pages of them
    found, only = store.common_prefixes(pair.target, SHARED, pages=32)

    # Then it has every folder, once, in key order, and the level holds nothing else,
    # for three LISTs
    assert found == folders
    assert only
    assert store.counter.snapshot().list == 3
    # And one page is not the whole level
    assert store.common_prefixes(pair.target, SHARED) == (folders[:100], False)


def test_a_key_beside_the_folders_makes_the_level_not_folders_only(pair: BucketPair) -> None:
    batches(pair, 150)
    pair.put(f"{SHARED}manifest.json", bucket=pair.target)
    store = S3Store(pair.client, RequestCounter(), page_size=100)

    _, only = store.common_prefixes(pair.target, SHARED, pages=32)

    assert not only


def test_plan_cuts_thousands_of_unpadded_folders_by_whole_folders(
    pair: BucketPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 1,200 folders with unpadded numbers, more than a page of them, and items of
    # 300 entries (two a folder)
    folders = batches(pair, 1_200)
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 300)
    store = S3Store(pair.client, RequestCounter())

    cuts, _, _ = cutting.probe_boundaries(store, pair.target, "", "", 100)

    # Then each item holds whole folders, as many in each (the cut after a folder's last
    # key), of the level Plan read whole
    assert len(cuts) == 7
    per_item = [
        sum(1 for f in folders if (low is None or f > low) and (high is None or f <= high))
        for low, high in zip([None, *cuts], [*cuts, None], strict=True)
    ]
    assert max(per_item) - min(per_item) <= 1
    assert all(cut.endswith(cutting.KEY_SPACE_END) for cut in cuts)
