"""Verify before destroy on a store that can't answer every listing (defect 13)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest

from syncpurge.data.s3shapes import ListingPage
from syncpurge.models import Entry
from syncpurge.verify import VanishedKeyVerifier, VanishedRef

pytestmark = pytest.mark.unit

Asked = tuple[str, str | None, str]  # (Prefix, KeyMarker, VersionIdMarker)


class FakeSource:
    """A source holding `keys`, answering as S3 does."""

    def __init__(self, keys: Iterable[str], page_size: int = 1000) -> None:
        self.keys = sorted(keys)
        self.page_size = page_size
        self.asked: list[Asked] = []

    def verify_page(
        self, bucket: str, prefix: str, after: str | None = None, version_marker: str = ""
    ) -> ListingPage:
        self.asked.append((prefix, after, version_marker))
        assert len(self.asked) < 20, "the listing does not move on"
        when = datetime(2026, 1, 1, tzinfo=UTC)
        entries = [
            Entry(k, "v1", True, when, False, 1, '"e"')
            for k in self.keys
            if k.startswith(prefix) and (after is None or k > after)
        ]
        if len(entries) <= self.page_size:
            return ListingPage(entries, [], False)
        # Truncated, with a NextKeyMarker and no NextVersionIdMarker (some stores give none)
        page = entries[: self.page_size]
        return ListingPage(page, [], True, None, (page[-1].key, ""))


def gone(key: str, predecessor: str | None = None) -> VanishedRef:
    return VanishedRef(key, predecessor, True)


def test_a_start_marker_xml_cannot_carry_is_cut_before_that_character() -> None:
    # Given a vanished key holding U+0001 with no source key before it, and one that
    # reappeared right after it
    bad = "gone/\x01ctl"
    source = FakeSource(["gone/\x01ctm", "live"])
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    verdict = verifier.reappeared([gone(bad), gone("gone/\x01ctm"), gone("gone/00")])

    # Then the listing starts at "gone/" (not "gone/\x01ct") and still answers every key
    assert verdict == {"gone/\x01ctm"}
    assert source.asked == [("gone/", "gone/", "")]


def test_a_pages_own_next_marker_is_sent_as_it_came() -> None:
    # Given a page that ends on a U+0001 key before the vanished keys c (reappeared) and d
    source = FakeSource(["a", "b\x01x", "b\x01y", "b\x01z", "c"], page_size=2)
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    verdict = verifier.reappeared([gone("c", "a"), gone("d", "a")])

    # Then the listing reads on from that key as the page named it, never cut back
    assert verdict == {"c"}
    assert source.asked == [("", "a", ""), ("", "b\x01y", "")]
