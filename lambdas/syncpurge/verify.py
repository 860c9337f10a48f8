"""Verify before destroy (DESIGN §5): re-list the source right before a vanished key goes."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from syncpurge.rules import is_folder_object
from syncpurge.s3store import S3Store


@dataclass(frozen=True, slots=True)
class VanishedRef:
    """A vanished key about to lose an entry: its source bucket key, the source key that
    preceded it at diff time (None: none did), and whether the entry holds content (a
    version, not a delete marker)."""

    key: str
    predecessor: str | None
    content: bool


class VanishedKeyVerifier:
    """Verify before destroy: re-list the source over the ranges that hold vanished keys.

    Each listing starts at a KeyMarker: the source predecessor of the first key still to
    check (the last source key before it at diff time), so the first entry S3 returns is
    that key's, if it reappeared. One page answers for every pending key up to its last
    key; the next listing jumps to the predecessor of the next key not yet answered. So a
    run of vanished keys dense in the source costs one page per 1,000 source entries it
    spans, and a lone one costs one page: whichever is fewer, per cluster.

    A key already checked by this verifier is not listed again for a delete marker (it
    holds no content, and the key's versions went first); a version is always re-checked.
    """

    def __init__(self, source: S3Store, bucket: str) -> None:
        self.source = source
        self.bucket = bucket
        self._answered: dict[str, bool] = {}  # key -> reappeared, for keys already checked

    def reappeared(self, refs: Sequence[VanishedRef]) -> set[str]:
        predecessors: dict[str, str | None] = {}
        content: set[str] = set()
        for ref in refs:
            predecessors.setdefault(ref.key, ref.predecessor)
            if ref.content:
                content.add(ref.key)
        found = {
            key for key in predecessors if key not in content and self._answered.get(key, False)
        }
        pending = sorted(k for k in predecessors if k in content or k not in self._answered)
        if not pending:
            return found
        prefix = os.path.commonprefix(pending)  # noqa: RUF071 - a common prefix of strings
        after = _start_after(pending[0], predecessors[pending[0]])
        while pending:
            page = self.source.verify_page(self.bucket, prefix, after)
            seen = {e.key for e in page.entries}
            last_seen = page.entries[-1].key if page.entries else None
            covered = [
                k
                for k in pending
                if not page.is_truncated or (last_seen is not None and _covers(last_seen, k))
            ]
            for key in covered:
                again = key in seen or _folder_has_content(key, seen)
                self._answered[key] = again
                if again:
                    found.add(key)
            if covered:
                pending = pending[len(covered) :]
                after = _start_after(pending[0], predecessors[pending[0]]) if pending else None
            else:
                # A full page of keys written since the diff, all before the next pending
                # key: read on from the page's last key.
                after = last_seen
        return found


def _start_after(key: str, predecessor: str | None) -> str | None:
    """Where a listing for `key` starts: after its predecessor at diff time, else after the
    key less its last character (it sorts before the key, and S3 reads a KeyMarker as "keys
    after this one"), so a key with no known predecessor (an applied plan's fresh listing of
    one key) is not listed from the bucket's first key."""
    if predecessor is not None and predecessor < key:
        return predecessor
    return key[:-1] or None


def _covers(last_seen: str, key: str) -> bool:
    # A folder object's content sorts right after it: the page must reach past the folder.
    return key < last_seen if is_folder_object(key) else key <= last_seen


def _folder_has_content(key: str, seen: set[str]) -> bool:
    """A DataSync folder object is not vanished while the source holds a key under it."""
    return is_folder_object(key) and any(s.startswith(key) for s in seen)
