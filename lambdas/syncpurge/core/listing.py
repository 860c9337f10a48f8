"""Listings as streams of per-key histories, fetched ahead on a background thread.

Memory stays bounded by the fetch-ahead depth (a few pages) plus the largest single key's
history, whatever the bucket's size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import groupby
from operator import attrgetter
from typing import TypeVar

from syncpurge.data.s3shapes import ListingPage
from syncpurge.models import Entry, KeyHistory, PageMarker

T = TypeVar("T")

_DONE = object()
_key_of = attrgetter("key")


class ListingOrderError(RuntimeError):
    """A listing went backwards: merging it would misjudge keys as vanished."""


def prefetched(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Iterate `items` on a worker thread, keeping up to `depth` of them ready ahead.

    The source and target listings each run on one of these, so both sides are fetched
    concurrently and the next page is in flight while the current one is diffed. Leaving
    the loop early (a continuation cursor, an error) stops the worker.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as err:  # handed to the consumer, raised there
            put(err)

    worker = threading.Thread(target=work, name="syncpurge-listing", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


# A key's history is handed on in segments of at most this many entries, so memory stays
# bounded for a key with millions of versions (read at call time: tests make it small).
KEY_SEGMENT_ENTRIES = 10_000


def key_histories(
    pages: Iterable[ListingPage],
    on_page: Callable[[int], None] | None = None,
    *,
    after_key: str | None = None,
    root: str = "",
    admits: Callable[[str], bool] | None = None,
    inside: tuple[str, str] | None = None,
    segment_entries: int | None = None,
    up_to: str | None = None,
    lookahead: bool = False,
) -> Iterator[KeyHistory]:
    """Group a listing's pages into histories per key; a key may span pages and segments.

    Histories are named by the key relative to `root` (the scope's location Subdirectory),
    so both sides of a scope compare key for key; entries keep their bucket keys. Keys
    `admits` refuses (outside the scope's filters) are dropped. With `after_key` (a resumed
    listing, relative), entries of keys <= after_key are dropped: the resume page marker may
    point into the page that still holds them. With `inside` = (relative key, VersionId), a
    diff stopped inside that key resumes: its entries up to and including that version are
    dropped, and its first history is not `first`. Keys after `up_to` (relative: the end
    of a key-range work item) end the stream; with `lookahead`, after the first of them
    (admitted), which only tells the diff what follows the range (a folder object's
    content may lie past it).
    """
    limit = segment_entries or KEY_SEGMENT_ENTRIES
    pending_key: str | None = None
    pending: list[Entry] = []
    pending_marker: PageMarker | None = None
    pending_first = True
    skipping = inside is not None  # still before the resumed key's last done version
    cut = len(root)
    for page in pages:
        if on_page is not None:
            on_page(len(page.entries))
        # groupby runs the per-entry work in C; Python only sees each key once per page.
        for full_key, group in groupby(page.entries, key=_key_of):
            key = full_key[cut:] if cut else full_key
            if up_to is not None and key > up_to:
                if admits is not None and not admits(key):
                    continue
                if pending_key is not None and pending:
                    yield KeyHistory(pending_key, tuple(pending), pending_marker, pending_first)
                if lookahead:
                    yield KeyHistory(key, tuple(group), page.marker)
                return
            if key != pending_key:
                if after_key is not None and key <= after_key:
                    continue
                if admits is not None and not admits(key):
                    continue
                if pending_key is not None:
                    if key < pending_key:
                        raise ListingOrderError(
                            f"listing went backwards: {key!r} came after {pending_key!r}"
                        )
                    if pending:
                        yield KeyHistory(pending_key, tuple(pending), pending_marker, pending_first)
                pending_key, pending, pending_marker = key, [], page.marker
                pending_first = inside is None or key != inside[0]
            entries = list(group)
            if skipping and inside is not None and key == inside[0]:
                # The resume page holds the key's next entry; its last done one is on it
                # too, or on an earlier page (then nothing here is done).
                skipping = False
                done = [e.version_id for e in entries]
                if inside[1] in done:
                    entries = entries[done.index(inside[1]) + 1 :]
                pending_marker = page.marker
            pending.extend(entries)
            # One entry stays pending, so a key's last segment is known to be its last.
            while len(pending) > limit:
                yield KeyHistory(
                    key, tuple(pending[:limit]), pending_marker, pending_first, False, page.marker
                )
                del pending[:limit]
                pending_marker, pending_first = page.marker, False
    if pending_key is not None and pending:
        yield KeyHistory(pending_key, tuple(pending), pending_marker, pending_first)
