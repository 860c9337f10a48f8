"""A set of named keys listed by range (docs/design.md §15): every entry of each key, and
the listing that answered it.

Each listing starts right before the first key still to answer (`start_marker`) under the
keys' common prefix. One page answers every pending key up to its last key; the next
listing jumps to the next pending key. Keys dense in the bucket cost one page per 1,000
entries they span, and a lone key one page: not one request per key where a range is
cheaper. A key whose versions run past a page is read on from the page's own markers.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncpurge.data.s3shapes import ListingPage
from syncpurge.data.s3store import S3Store
from syncpurge.erasure.keys import start_marker
from syncpurge.models import Entry
from syncpurge.phases.verify import ListingStalled


@dataclass(frozen=True, slots=True)
class KeyListing:
    """One key's entries in one bucket, and the listing that answered for it: its time
    (the clock's, when the answer came) and S3's request id."""

    entries: tuple[Entry, ...]
    at: datetime
    request_id: str | None


def list_key_set(
    store: S3Store,
    bucket: str,
    keys: Sequence[str],
    clock: Callable[[], datetime],
    on_page: Callable[[int], None] | None = None,
) -> dict[str, KeyListing]:
    """Every entry of each of `keys` (bucket keys) in `bucket`, key by key; `on_page` is
    told how many keys each page answered."""
    pending = deque(sorted(set(keys)))
    if not pending:
        return {}
    waiting = set(pending)
    prefix = os.path.commonprefix(list(pending))  # noqa: RUF071 - a common prefix of strings
    found: dict[str, list[Entry]] = {}
    answered: dict[str, KeyListing] = {}
    after, version_marker = start_marker(pending[0]), ""
    while pending:
        page = store.key_set_page(bucket, prefix, after, version_marker)
        at = clock()
        entries = page.entries
        if after is not None and not version_marker:
            # A KeyMarker alone means "keys after this one"; some stores echo its own.
            entries = [e for e in entries if e.key > after]
        for entry in entries:
            if entry.key in waiting:
                found.setdefault(entry.key, []).append(entry)
        last = entries[-1].key if entries else None
        done = 0
        while pending and (not page.is_truncated or (last is not None and pending[0] < last)):
            key = pending.popleft()
            waiting.discard(key)
            answered[key] = KeyListing(tuple(found.pop(key, ())), at, page.request_id)
            done += 1
        if on_page is not None:
            on_page(done)
        if not pending:
            break
        jump = start_marker(pending[0])
        if last is not None and pending[0] != last and jump is not None and jump > last:
            # Past everything read so far, and right before the next key to answer.
            after, version_marker = jump, ""
        else:
            # The key's versions go on past this page, the page held none of ours yet, or
            # the next key's marker lies behind what was read (keys between the marker and
            # the key): read on, never back.
            after, version_marker = _read_on(page, (after, version_marker))
    return answered


def _read_on(page: ListingPage, sent: tuple[str | None, str]) -> tuple[str, str]:
    if page.next_marker is None or page.next_marker == sent:
        raise ListingStalled(
            f"the S3 endpoint answered ListObjectVersions KeyMarker={sent[0]!r} "
            f"VersionIdMarker={sent[1]!r} with a truncated page whose next markers "
            f"({page.next_marker!r}) make no progress; it does not page like S3"
        )
    return page.next_marker
