"""Listing pages into histories (invariant 5), fetch-ahead, and the plan codec."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from syncpurge.core.listing import ListingOrderError, key_histories, prefetched
from syncpurge.core.plan import decode_lines, encode_lines
from syncpurge.data.s3shapes import ListingPage, page_entries
from syncpurge.models import Entry, PlannedEntry, Rule, SkipReason

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def entry(key: str, vid: str, marker: bool = False) -> Entry:
    return Entry(key, vid, False, T0, marker, None if marker else 1, None if marker else '"e"')


def test_a_key_spanning_pages_is_one_history_and_nothing_is_double_counted() -> None:
    pages = [
        ListingPage([entry("a", "1"), entry("b", "1"), entry("b", "2")], [], True),
        ListingPage([entry("b", "3")], [], True),
        ListingPage([entry("b", "4"), entry("c", "1")], [], False),
    ]
    result = [(h.key, [e.version_id for e in h.entries]) for h in key_histories(pages)]
    assert result == [("a", ["1"]), ("b", ["1", "2", "3", "4"]), ("c", ["1"])]


def test_histories_carry_the_marker_of_the_page_they_start_on_and_resume_drops_done_keys() -> None:
    pages = [
        ListingPage([entry("a", "1"), entry("b", "1")], [], True, None),
        ListingPage([entry("b", "2"), entry("c", "1")], [], True, ("b", "1")),
        ListingPage([entry("d", "1")], [], False, ("c", "1")),
    ]
    assert [(h.key, h.page_marker) for h in key_histories(pages)] == [
        ("a", None),
        ("b", None),
        ("c", ("b", "1")),
        ("d", ("c", "1")),
    ]
    assert [h.key for h in key_histories(pages[1:], after_key="b")] == ["c", "d"]


def long_key_pages() -> list[ListingPage]:
    """Key 'b' with 23 entries over three pages of 10, between 'a' and 'c'."""
    items = [entry("a", "1"), *(entry("b", f"{n:02d}") for n in range(23)), entry("c", "1")]
    markers: list[tuple[str, str] | None] = [None, ("b", "08"), ("b", "18")]
    return [ListingPage(items[i * 10 : (i + 1) * 10], [], i < 2, markers[i]) for i in range(3)]


def test_a_long_key_comes_in_bounded_segments_that_say_where_the_next_one_starts() -> None:
    # Issue 8, defect 10: a key with millions of versions was held in memory whole.
    histories = list(key_histories(long_key_pages(), segment_entries=7))

    shape = [(h.key, len(h.entries), h.first, h.last) for h in histories]
    assert shape == [
        ("a", 1, True, True),
        ("b", 7, True, False),
        ("b", 7, False, False),
        ("b", 7, False, False),
        ("b", 2, False, True),
        ("c", 1, True, True),
    ]
    assert max(len(h.entries) for h in histories) <= 7
    b = [h for h in histories if h.key == "b"]
    assert [e.version_id for h in b for e in h.entries] == [f"{n:02d}" for n in range(23)]
    # next_marker names a page that holds the entry after the segment
    assert [h.next_marker for h in b[:-1]] == [None, ("b", "08"), ("b", "18")]


def test_a_listing_resumed_inside_a_key_drops_its_done_versions() -> None:
    pages = long_key_pages()[1:]  # resumed from the page marker ('b', '08')
    histories = list(key_histories(pages, after_key="a", inside=("b", "13"), segment_entries=7))

    assert [(h.key, h.first, h.last) for h in histories] == [
        ("b", False, False),
        ("b", False, True),
        ("c", True, True),
    ]
    assert [e.version_id for h in histories[:2] for e in h.entries] == [
        f"{n:02d}" for n in range(14, 23)
    ]


def test_a_listing_that_goes_backwards_is_refused() -> None:
    pages = [ListingPage([entry("b", "1")], [], True), ListingPage([entry("a", "1")], [], False)]
    with pytest.raises(ListingOrderError, match="went backwards"):
        list(key_histories(pages))


def test_page_entries_interleave_versions_and_markers_in_key_order() -> None:
    page = {
        "Versions": [
            {
                "Key": "a",
                "VersionId": "1",
                "IsLatest": False,
                "LastModified": T0,
                "Size": 1,
                "ETag": '"e"',
            },
            {
                "Key": "c",
                "VersionId": "3",
                "IsLatest": True,
                "LastModified": T0,
                "Size": 1,
                "ETag": '"e"',
            },
        ],
        "DeleteMarkers": [{"Key": "b", "VersionId": "2", "IsLatest": True, "LastModified": T0}],
    }
    assert [(e.key, e.is_delete_marker) for e in page_entries(page)] == [
        ("a", False),
        ("b", True),
        ("c", False),
    ]


def test_prefetched_yields_everything_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def produce() -> Iterator[int]:
        for i in range(50):
            threads.add(threading.current_thread().name)
            yield i

    assert list(prefetched(produce())) == list(range(50))
    assert threads == {"syncpurge-listing"}


def test_prefetched_raises_the_producers_error_in_the_consumer() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise RuntimeError("listing failed")

    with pytest.raises(RuntimeError, match="listing failed"):
        list(prefetched(produce()))


def test_closing_prefetched_early_stops_the_producer() -> None:
    produced: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(10_000):
            produced.append(i)
            yield i

    stream = prefetched(produce(), depth=2)
    assert next(stream) == 0
    stream.close()
    assert len(produced) < 10


def test_plan_round_trips_through_its_codec() -> None:
    item = PlannedEntry(
        Entry("k é+%20", "v1", True, T0, False, 7, '"x-2"'),
        Rule.ORPHAN_VERSION,
        "why",
        SkipReason.UNVERIFIABLE,
        "pred",
    )
    marker = PlannedEntry(entry("m", "v2", marker=True), Rule.VANISHED_KEY, "gone")
    assert list(decode_lines(encode_lines([item, marker]))) == [item, marker]
