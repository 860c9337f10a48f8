"""Verify before destroy (DESIGN §5): re-list the source right before a vanished key goes."""

from __future__ import annotations

import os
from collections.abc import Sequence

from syncpurge.rules import is_folder_object
from syncpurge.s3store import S3Store


class VanishedKeyVerifier:
    """Verify before destroy: re-list the source right before deleting a vanished key.

    Listings use Prefix only (no KeyMarker, whose meaning differs between S3-compatible
    stores). A vanished key is listed under its *cluster prefix*: the key cut one character
    past what it shares with its source predecessor, a range in which, at diff time, no
    source key sorted before it. One page there answers for every pending vanished key
    the page covers, so a run of vanished keys (a deleted "folder") shares a LIST.
    """

    def __init__(self, source: S3Store, bucket: str) -> None:
        self.source = source
        self.bucket = bucket
        self._last: tuple[str, bool] | None = None  # a key spanning batches is listed once

    def reappeared(self, keys: Sequence[tuple[str, str | None]]) -> set[str]:
        predecessors: dict[str, str | None] = {}
        for key, predecessor in keys:
            predecessors.setdefault(key, predecessor)
        found: set[str] = set()
        if self._last is not None and self._last[0] in predecessors:
            key, again = self._last
            del predecessors[key]
            if again:
                found.add(key)
        if not predecessors:
            return found
        pending = sorted(predecessors)
        exact = False
        while pending:
            key = pending[0]
            prefix = key if exact else cluster_prefix(key, predecessors[key])
            page = self.source.verify_page(self.bucket, prefix)
            seen = {e.key for e in page.entries}
            last_seen = page.entries[-1].key if page.entries else None
            covered = {
                k
                for k in pending
                if k.startswith(prefix)
                and (not page.is_truncated or (last_seen is not None and _covers(last_seen, k)))
            }
            found.update(k for k in covered if k in seen or _folder_has_content(k, seen))
            # A full page of keys that appeared since the diff covered nothing: list the
            # key itself, which always resolves it (it sorts first under its own prefix).
            exact = not covered
            pending = [k for k in pending if k not in covered]
        last_key = max(predecessors)
        self._last = (last_key, last_key in found)
        return found


def _covers(last_seen: str, key: str) -> bool:
    # A folder object's content sorts right after it: the page must reach past the folder.
    return key < last_seen if is_folder_object(key) else key <= last_seen


def _folder_has_content(key: str, seen: set[str]) -> bool:
    """A DataSync folder object is not vanished while the source holds a key under it."""
    return is_folder_object(key) and any(s.startswith(key) for s in seen)


def cluster_prefix(key: str, source_predecessor: str | None) -> str:
    """The shortest prefix of `key` that excludes its source predecessor."""
    if source_predecessor is None:
        return key[:1]
    shared = len(os.path.commonprefix([source_predecessor, key]))  # noqa: RUF071
    return key[: shared + 1]
