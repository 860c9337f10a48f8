"""Verify before destroy (docs/design.md §5): re-list the source right before a vanished
key goes."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from syncpurge.core.rules import is_folder_object
from syncpurge.data.s3shapes import XML_INVALID, ListingPage
from syncpurge.data.s3store import S3Store
from syncpurge.errors import FailureStreak, ListingFailed


@dataclass(frozen=True, slots=True)
class VanishedRef:
    """A vanished key about to lose an entry: its source bucket key, the source key that
    preceded it at diff time (None: none did), and whether the entry holds content (a
    version, not a delete marker)."""

    key: str
    predecessor: str | None
    content: bool


@dataclass(slots=True)
class Verdict:
    """What verify found of the keys it was asked about: those the source holds again, and
    those it could not list (key -> the request that failed and its error). Only a key in
    neither may be deleted."""

    reappeared: set[str] = field(default_factory=set)
    unverifiable: dict[str, str] = field(default_factory=dict)


class VanishedKeyVerifier:
    """Verify before destroy: re-list the source over the ranges that hold vanished keys.

    Each listing starts at a KeyMarker: the source predecessor of the first key still to
    check (the last source key before it at diff time), so the first entry S3 returns is
    that key's, if it reappeared. One page answers for every pending key up to its last
    key; the next listing jumps to the predecessor of the next key not yet answered. So a
    run of vanished keys dense in the source costs one page per 1,000 source entries it
    spans, and a lone one costs one page: whichever is fewer, per cluster.

    A range listing that fails after retries (a store that can't answer about some key in
    it) costs no key its verify: the keys it had not answered are listed one at a time, a
    `Prefix=key` listing each, and a key whose own listing fails is unverifiable (kept,
    and reported with the request and its error). Several in a row failing after retries
    end the run (`StoreUnreachable`): the source, not a key, is in trouble.

    A key already checked by this verifier is not listed again for a delete marker (it
    holds no content, and the key's versions went first); a version is always re-checked.
    A key found unverifiable stays so for this verifier.
    """

    def __init__(self, source: S3Store, bucket: str) -> None:
        self.source = source
        self.bucket = bucket
        self._answered: dict[str, bool] = {}  # key -> reappeared, for keys already checked
        self._failed: dict[str, str] = {}  # key -> why it could not be checked

    def check(self, refs: Sequence[VanishedRef]) -> Verdict:
        """Which of the keys `refs` name the source holds again, and which it can't say."""
        predecessors: dict[str, str | None] = {}
        content: set[str] = set()
        for ref in refs:
            predecessors.setdefault(ref.key, ref.predecessor)
            if ref.content:
                content.add(ref.key)
        pending = deque(
            sorted(
                k
                for k in predecessors
                if k not in self._failed and (k in content or k not in self._answered)
            )
        )
        if pending:
            try:
                self._by_range(pending, predecessors)
            except ListingFailed:
                self._one_by_one(pending)
        return self._verdict(predecessors)

    def _verdict(self, keys: dict[str, str | None]) -> Verdict:
        verdict = Verdict()
        for key in keys:
            if key in self._failed:
                verdict.unverifiable[key] = self._failed[key]
            elif self._answered[key]:  # every key is answered or failed by now
                verdict.reappeared.add(key)
        return verdict

    def _by_range(self, pending: deque[str], predecessors: dict[str, str | None]) -> None:
        """Answer the pending keys from range listings, taking each off as it is answered."""
        prefix = os.path.commonprefix(list(pending))  # noqa: RUF071 - a common prefix of strings
        after = _start_after(pending[0], predecessors[pending[0]])
        version_marker, read_on = "", False
        while pending:
            # A start marker of our choosing is cut to one any store can echo; a page's own
            # next markers are sent as they came (cut, the listing would not move on).
            sent = (after, version_marker) if read_on else (_sendable(after), "")
            page = self.source.verify_page(self.bucket, prefix, *sent)
            entries = page.entries
            if after is not None and not version_marker:
                # A KeyMarker alone means "keys after this one" (S3 API reference,
                # ListObjectVersions); some stores answer with that key's own versions.
                entries = [e for e in entries if e.key > after]
            seen = {e.key for e in entries}
            last_seen = entries[-1].key if entries else None
            covered = [
                k
                for k in pending
                if not page.is_truncated or (last_seen is not None and _covers(last_seen, k))
            ]
            for key in covered:
                self._answered[key] = key in seen or _folder_has_content(key, seen)
                pending.popleft()
            if covered:
                after = _start_after(pending[0], predecessors[pending[0]]) if pending else None
                version_marker, read_on = "", False
            else:
                # A full page of keys written since the diff (or one key's many versions),
                # all before the next pending key: read on from the page's own markers.
                (after, version_marker), read_on = _next_markers(page, sent), True

    def _one_by_one(self, pending: deque[str]) -> None:
        """Answer each pending key from a listing of its own: `Prefix=key`, no marker."""
        streak = FailureStreak("verify before destroy could not list the source")
        while pending:
            key = pending.popleft()
            try:
                page = self.source.verify_page(self.bucket, key)
            except ListingFailed as failure:
                self._failed[key] = f"verify before destroy: {failure}"
                streak.failed(failure)
                continue
            streak.succeeded()
            self._answered[key] = _holds(page, key)


class ListingStalled(RuntimeError):
    """A listing that makes no progress: the endpoint pages unlike S3."""


def _next_markers(page: ListingPage, sent: tuple[str | None, str]) -> tuple[str, str]:
    """Where the listing goes on after a truncated page: its own next markers, which must
    move past the markers it was asked with, else the endpoint would be asked forever."""
    if page.next_marker is None or (page.next_marker[0], page.next_marker[1]) == sent:
        raise ListingStalled(
            f"the S3 endpoint answered ListObjectVersions KeyMarker={sent[0]!r} "
            f"VersionIdMarker={sent[1]!r} with a truncated page whose next markers "
            f"({page.next_marker!r}) make no progress; it does not page like S3, so verify "
            "before destroy can't finish: nothing more was deleted"
        )
    return page.next_marker


def _start_after(key: str, predecessor: str | None) -> str | None:
    """Where a listing for `key` starts: after its predecessor at diff time, else after the
    key less its last character (it sorts before the key, and S3 reads a KeyMarker as "keys
    after this one"), so a key with no known predecessor (an applied plan's fresh listing of
    one key) is not listed from the bucket's first key."""
    if predecessor is not None and predecessor < key:
        return predecessor
    return key[:-1] or None


def _sendable(after: str | None) -> str | None:
    """A start marker any store can echo: `after` cut before its first character XML 1.0
    can't carry. S3 URL-encodes the KeyMarker it echoes under EncodingType=url (S3 API
    reference, ListObjectVersions); LocalStack 2026.3 echoes it raw, an answer no XML parser
    reads, which botocore takes for a 500 and retries to exhaustion. The cut marker sorts
    at or before `after`: the listing starts no later, and what it adds is dropped."""
    bad = XML_INVALID.search(after) if after is not None else None
    if after is None or bad is None:
        return after
    return after[: bad.start()] or None


def _holds(page: ListingPage, key: str) -> bool:
    """Whether a `Prefix=key` page shows the key (a folder object: a key under it). The
    key sorts first under its own prefix, so its first page tells, truncated or not."""
    if page.is_truncated and not page.entries:
        raise ListingStalled(
            f"the S3 endpoint answered ListObjectVersions Prefix={key!r} with a truncated "
            "page holding no entry; it does not page like S3, so verify before destroy "
            "can't finish: nothing more was deleted"
        )
    seen = {e.key for e in page.entries}
    return key in seen or _folder_has_content(key, seen)


def _covers(last_seen: str, key: str) -> bool:
    # A folder object's content sorts right after it: the page must reach past the folder.
    return key < last_seen if is_folder_object(key) else key <= last_seen


def _folder_has_content(key: str, seen: set[str]) -> bool:
    """A DataSync folder object is not vanished while the source holds a key under it."""
    return is_folder_object(key) and any(s.startswith(key) for s in seen)
