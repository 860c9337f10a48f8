"""Key ranges and how Plan cuts a key space (syncpurge.keyspace, workflow.ranges)."""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncpurge.keyspace import (
    KeyPositions,
    KeyRange,
    ranges_between,
    split_by_samples,
)
from syncpurge.models import Entry
from syncpurge.s3shapes import ListingPage
from syncpurge.workflow import ranges

pytestmark = pytest.mark.unit

key_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF), max_size=12)


@given(keys=st.lists(key_text, min_size=1, max_size=40), probe=st.lists(key_text, max_size=40))
def test_positions_keep_key_order_for_keys_seen_and_unseen(
    keys: list[str], probe: list[str]
) -> None:
    where = KeyPositions.of(keys, "")
    ordered = sorted(set(keys + probe))
    positions = [where.position(k) for k in ordered]
    assert positions == sorted(positions)


@given(keys=st.lists(key_text, min_size=1, max_size=40), points=st.lists(st.integers(0)))
def test_key_at_is_monotone_and_names_a_key_under_the_prefix(
    keys: list[str], points: list[int]
) -> None:
    where = KeyPositions.of(["p/" + k for k in keys], "p/")
    made = [where.key_at(p) for p in sorted(p % where.span for p in points)]
    assert made == sorted(made)
    assert all(k.startswith("p/") for k in made)


@given(
    boundaries=st.lists(key_text, unique=True, max_size=8).map(sorted),
    keys=st.lists(key_text, max_size=30),
)
def test_ranges_between_boundaries_hold_every_key_exactly_once(
    boundaries: list[str], keys: list[str]
) -> None:
    parts = ranges_between(boundaries)
    assert len(parts) == len(boundaries) + 1
    for key in keys:
        assert sum(part.holds(key) for part in parts) == 1


def test_a_range_holds_what_is_after_its_start_up_to_its_end() -> None:
    part = KeyRange("b", "d")
    assert [part.holds(k) for k in ("b", "b0", "c", "d", "d0")] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_recorded_samples_cut_into_equal_weights() -> None:
    samples = [(f"k{i:04d}", 10) for i in range(1000)]
    cuts = split_by_samples(reversed(samples), 64)
    edges = [0] + [bisect.bisect_right([k for k, _ in samples], c) for c in cuts] + [1000]
    sizes = [b - a for a, b in itertools.pairwise(edges)]
    assert len(sizes) == 64
    assert max(sizes) <= 1.3 * 1000 / 64


class ListedKeys:
    """A bucket of sorted keys (one entry each) answering Plan's probes, counted."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        self.requests = 0
        self.now = datetime.now(UTC)

    def common_prefixes(self, bucket: str, prefix: str) -> tuple[list[str], bool]:
        self.requests += 1
        found: list[str] = []
        objects = False
        at = bisect.bisect_left(self.keys, prefix)
        while at < len(self.keys) and self.keys[at].startswith(prefix) and len(found) < 1000:
            rest = self.keys[at][len(prefix) :]
            if "/" in rest:
                folder = prefix + rest[: rest.index("/") + 1]
                found.append(folder)
                at = bisect.bisect_left(self.keys, folder[:-1] + "0")
            else:
                objects, at = True, at + 1
        complete = at >= len(self.keys) or not self.keys[at].startswith(prefix)
        return found, complete and not objects

    def probe_page(self, bucket: str, prefix: str, after: str | None) -> ListingPage:
        self.requests += 1
        at = bisect.bisect_left(self.keys, prefix)
        if after is not None:
            at = max(at, bisect.bisect_right(self.keys, after))
        page = [k for k in self.keys[at : at + 1000] if k.startswith(prefix)]
        more = at + 1000 < len(self.keys) and self.keys[at + 1000].startswith(prefix)
        entries = [Entry(k, "v", True, self.now, False, 1, '"e"') for k in page]
        return ListingPage(entries, [], more)


def item_sizes(keys: list[str], cuts: list[str]) -> list[int]:
    ordered = sorted(keys)
    edges = [0] + [bisect.bisect_right(ordered, c) for c in cuts] + [len(ordered)]
    return [b - a for a, b in itertools.pairwise(edges)]


LAYOUTS = {
    "sequential": [f"data/{i:07d}.bin" for i in range(200_000)],
    "hashes": [f"data/{random.Random(i).getrandbits(64):016x}" for i in range(200_000)],
    "folders": [f"data/{i // 100:05d}/{i % 100:03d}.json" for i in range(200_000)],
    "dates": [
        f"logs/2024-{m:02d}-{d:02d}/part-{i:04d}"
        for m in (1, 2)
        for d in range(1, 29)
        for i in range(3_500)
    ],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_probes_cut_one_prefix_into_balanced_items_for_little(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given items of 12,500 target entries: ~16 of them over 200,000 keys
    monkeypatch.setattr(ranges, "FIRST_RUN_TARGET_ENTRIES", 12_500)
    bucket = ListedKeys(LAYOUTS[layout])

    cuts, _ = ranges.probe_boundaries(bucket, "b", "", "", 1_000)  # type: ignore[arg-type]

    sizes = item_sizes(bucket.keys, cuts)
    # Then at least 8 items, none empty, the largest at most twice the mean, for a few
    # dozen listing requests against the 200 pages the bucket's listing takes
    assert len(sizes) >= 8
    assert min(sizes) > 0
    assert max(sizes) <= 2 * len(bucket.keys) / len(sizes)
    assert bucket.requests <= 40
    assert cuts == sorted(set(cuts))
