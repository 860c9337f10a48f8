"""Splitting while the run goes on (docs/design.md §10): where a remainder is cut, and where
Plan looks for the prefix every key shares, on layouts no one tuned for."""

from __future__ import annotations

import pytest

from syncpurge.core.keyspace import shared_prefix
from syncpurge.phases import cutting
from syncpurge.workflow.recut import cut_remainder
from tests.unit.test_keyspace import ListedKeys, item_sizes

pytestmark = pytest.mark.unit

SHARED = "exports/warehouse-prod-eu-west-1/daily-snapshots/tables/events_v2/output/"


def test_the_shared_prefix_is_what_every_key_between_two_keys_starts_with() -> None:
    assert shared_prefix("customers/1698942/0001120278", "customers/169895") == "customers/16989"
    assert shared_prefix("a/b", "a/b/c") == "a/b"
    assert shared_prefix("", "x") == ""


def test_a_remainder_deep_in_one_long_folder_name_is_cut_into_pieces_of_its_size() -> None:
    # Given one folder of 120,000 keys under a long shared prefix (a customer, a batch),
    # an item that listed its first 1,000 keys, and the next folder after it
    folder = f"{SHARED}batch7/"
    keys = [f"{folder}{i:010d}" for i in range(120_000)]
    keys += [f"{SHARED}batch70/{i:010d}" for i in range(5_000)]
    bucket = ListedKeys(keys)
    after, up_to = keys[999], folder + cutting.KEY_SPACE_END

    # When its remainder is re-cut
    cuts, per_piece, _ = cut_remainder(
        bucket,  # type: ignore[arg-type]
        "b",
        within="",
        root="",
        after=after,
        up_to=up_to,
        planned=20_000,
        wave=0,
        max_pieces=1_000,
    )

    # Then the pieces hold the remainder evenly (positions resolve the numbers past the
    # folder's name, which both ends share), each estimated near its true size
    sizes = item_sizes([k for k in bucket.keys if after < k <= up_to], cuts)
    assert len(sizes) >= 8
    assert max(sizes) <= 2 * sum(sizes) / len(sizes)
    assert 0.5 <= per_piece / (2 * sum(sizes) / len(sizes)) <= 2
    assert all(after < cut < up_to for cut in cuts)


def test_plan_descends_a_long_chain_of_lone_folders_to_cut_evenly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given 200 folders of 1,000 keys with unpadded numbers, six lone folders deep, and
    # items of 12,500 entries
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 12_500)
    keys = [f"{SHARED}batch{b}/{i:06d}.parquet" for b in range(200) for i in range(1_000)]
    bucket = ListedKeys(keys)

    cuts, _, _ = cutting.probe_boundaries(bucket, "b", "", "", 1_000)  # type: ignore[arg-type]

    # Then Plan cuts the folders evenly: sixteen items or more, none past twice the mean
    sizes = item_sizes(bucket.keys, cuts)
    assert len(sizes) >= 16
    assert max(sizes) <= 2 * len(keys) / len(sizes)
