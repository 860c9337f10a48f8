"""Key ranges and how Plan cuts a key space (syncpurge.core.keyspace, phases.cutting)."""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncpurge.core.keyspace import (
    KeyPositions,
    KeyRange,
    clamp_key,
    cuts_within,
    ranges_between,
    split_by_samples,
)
from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import ListingPage
from syncpurge.models import Entry
from syncpurge.phases import cutting
from syncpurge.phases.cutting import relative_key_limit

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
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 12_500)
    bucket = ListedKeys(LAYOUTS[layout])

    cuts, _, _ = cutting.probe_boundaries(bucket, "b", "", "", 1_000)  # type: ignore[arg-type]

    sizes = item_sizes(bucket.keys, cuts)
    # Then at least 8 items, none empty, the largest at most twice the mean, for a few
    # dozen listing requests against the 200 pages the bucket's listing takes
    assert len(sizes) >= 8
    assert min(sizes) > 0
    assert max(sizes) <= 2 * len(bucket.keys) / len(sizes)
    assert bucket.requests <= 40
    assert cuts == sorted(set(cuts))


def keys_of_1024_bytes(count: int, seed: int = 17, size: int = 1024) -> list[str]:
    """Keys of exactly `size` bytes under a deep prefix: two of each key's last twelve
    characters are two bytes long, so a point that takes a character per place from
    different keys can be longer than any of them."""
    deep = "d" * (size - 15) + "/"
    rng = random.Random(seed)
    keys: set[str] = set()
    while len(keys) < count:
        chars = [rng.choice("ab") for _ in range(12)]
        for at in rng.sample(range(12), 2):
            chars[at] = "\u00e9"
        keys.add(deep + "".join(chars))
    return sorted(keys)


def test_a_cut_or_probe_marker_never_exceeds_s3_s_1024_byte_key_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 17 (suspected): cuts and probe points longer than any key S3 takes.
    monkeypatch.setattr(cutting, "FIRST_RUN_TARGET_ENTRIES", 500)
    bucket = ListedKeys(keys_of_1024_bytes(5_000))
    markers: list[str] = []
    answer = bucket.probe_page

    def probe_page(bucket_name: str, prefix: str, after: str | None) -> ListingPage:
        if after is not None:
            markers.append(after)
        return answer(bucket_name, prefix, after)

    bucket.probe_page = probe_page  # type: ignore[method-assign]

    cuts, _, _ = cutting.probe_boundaries(bucket, "b", "", "", 1_000)  # type: ignore[arg-type]

    assert markers, "the probes never started at a marker"
    assert all(len(m.encode()) <= 1024 for m in markers)
    # The raw cuts can be longer (the points between keys); clamped, they fit, in order
    assert max(len(c.encode()) for c in cuts) > 1024
    clamped = cuts_within(cuts)
    assert all(len(c.encode()) <= 1024 for c in clamped)
    assert clamped == sorted(set(clamped))
    assert len(clamped) >= len(cuts) // 2


def test_plan_clamps_relative_cuts_to_fit_under_the_longer_root() -> None:
    scope = Scope(source_root="a-long-source-root/", target_root="t/")

    limit = relative_key_limit(scope)

    assert limit == 1024 - len("a-long-source-root/")
    cut = cuts_within(["\u00e9" * 600], limit)[0]
    assert len((scope.source_root + cut).encode()) <= 1024


def test_clamping_keeps_cuts_increasing_and_never_splits_a_character() -> None:
    folder = "f" * 1021 + "/"
    cuts = [folder + "a" * 10, folder + "\U0010ffff", "g"]

    clamped = cuts_within(cuts, 1024)

    # the folder's cut, clamped to the folder itself, would sort before the one before it
    assert clamped == [folder + "aa", "g"]
    assert clamp_key("\u00e9" * 600) == "\u00e9" * 512  # two bytes each
    assert clamp_key(folder + "\U0010ffff") == folder  # four bytes: dropped whole
