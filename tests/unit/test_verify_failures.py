"""Verify before destroy when the source can't answer a listing (defect 13): the keys a
failed range listing had not answered are listed one by one, a key whose own listing
fails is unverifiable (never reported absent), and several in a row end the run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest

from syncpurge.data.s3shapes import ListingPage
from syncpurge.errors import ListingFailed, StoreUnreachable
from syncpurge.models import Entry
from syncpurge.phases.verify import VanishedKeyVerifier, VanishedRef, Verdict

pytestmark = pytest.mark.unit

Asked = tuple[str, str | None, str]  # (Prefix, KeyMarker, VersionIdMarker)


class FakeSource:
    """A source holding `keys`, answering as S3 does unless `fails(prefix, marker)`."""

    def __init__(
        self, keys: Iterable[str], fails: Callable[[str, str | None], bool], page_size: int = 1000
    ) -> None:
        self.keys = sorted(keys)
        self.fails = fails
        self.page_size = page_size
        self.asked: list[Asked] = []

    def verify_page(
        self, bucket: str, prefix: str, after: str | None = None, version_marker: str = ""
    ) -> ListingPage:
        self.asked.append((prefix, after, version_marker))
        assert len(self.asked) < 20, "the listing does not move on"
        if self.fails(prefix, after):
            raise ListingFailed(f"ListObjectVersions Prefix={prefix!r}", "InternalError", "boom")
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


def test_a_failed_range_costs_only_the_key_whose_own_listing_fails() -> None:
    # Given a source that fails any listing whose range holds b2 (its own listing too),
    # with b3 back since the diff and the folder f/ holding a key again
    def holds_b2(prefix: str, after: str | None) -> bool:
        return "b2".startswith(prefix) and (after is None or after < "b2")

    source = FakeSource(["a", "b3", "f/x"], holds_b2)
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    verdict = verifier.check([gone(k, "a") for k in ("b1", "b2", "b3", "b4", "f/")])

    # Then b2 alone is unverifiable, naming the call; the others are answered one by one
    assert verdict.reappeared == {"b3", "f/"}
    assert list(verdict.unverifiable) == ["b2"]
    assert "ListObjectVersions Prefix='b2'" in verdict.unverifiable["b2"]
    assert "InternalError" in verdict.unverifiable["b2"]
    assert source.asked == [
        ("", "a", ""),  # the range, failed
        *((key, None, "") for key in ("b1", "b2", "b3", "b4", "f/")),
    ]
    # And b2 stays unverifiable without being listed again
    again = verifier.check([gone("b2", "a")])
    assert again == Verdict(set(), {"b2": verdict.unverifiable["b2"]})
    assert len(source.asked) == 6


def test_keys_failing_one_after_another_end_the_run() -> None:
    source = FakeSource(["a"], lambda prefix, after: True)
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    with pytest.raises(StoreUnreachable, match="3 listings of single keys failed in a row"):
        verifier.check([gone(f"k{i}", "a") for i in range(10)])

    assert len(source.asked) == 1 + 3  # the range, then three keys: no more


def test_a_start_marker_xml_cannot_carry_is_cut_before_that_character() -> None:
    # Given a vanished key holding U+0001 with no source key before it, and one that
    # reappeared right after it
    bad = "gone/\x01ctl"
    source = FakeSource(["gone/\x01ctm", "live"], lambda prefix, after: False)
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    verdict = verifier.check([gone(bad), gone("gone/\x01ctm"), gone("gone/00")])

    # Then the listing starts at "gone/" (not "gone/\x01ct") and still answers every key
    assert verdict == Verdict({"gone/\x01ctm"})
    assert source.asked == [("gone/", "gone/", "")]


def test_a_pages_own_next_marker_is_sent_as_it_came() -> None:
    # Given a page that ends on a U+0001 key before the vanished keys c (reappeared) and d
    source = FakeSource(["a", "b\x01x", "b\x01y", "b\x01z", "c"], lambda p, a: False, 2)
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    verdict = verifier.check([gone("c", "a"), gone("d", "a")])

    # Then the listing reads on from that key as the page named it, never cut back
    assert verdict == Verdict({"c"})
    assert source.asked == [("", "a", ""), ("", "b\x01y", "")]
