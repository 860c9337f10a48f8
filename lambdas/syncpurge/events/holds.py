"""The hold, per key and across deliveries (DESIGN §13): nothing of a key is purged until
the hold has passed since that key's latest known event, and since its source history
was last seen to change.

A delivery decides keys on fresh listings, and those listings already show every later
permanent delete of the key, including one whose event is still on its way. So a key's
hold can't be judged by the events of one delivery, nor by events alone:
- each event's time (the later of its claim and the queue's receipt) is noted against
  every key it can name, in a book kept between deliveries;
- each delivery also notes a digest of the key's source history (its VersionIds). A
  change since the last digest (a delete whose event is not here yet, or a first sight)
  starts the hold again from now. VersionIds never come back, so two equal digests mean
  nothing changed between them: the listing a key is decided on is one the hold covered.
A record outlives its use by design: nothing is ever deleted here (syncpurge deletes only
target versions); a lifecycle rule on the holds folder expires records long after any
event of theirs could still be queued.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from syncpurge.data.s3store import S3Store


@dataclass
class KeyHold:
    """What the book knows of one key."""

    latest: datetime | None = None  # the latest time an event of it was known
    seen: datetime | None = None  # when its source history was last seen to change
    digest: str | None = None  # of that history's VersionIds

    def due_at(self, hold: timedelta) -> datetime | None:
        if self.latest is None or self.seen is None:
            return None
        return max(self.latest, self.seen) + hold

    def to_json(self, key: str) -> dict[str, str | None]:
        return {
            "key": key,
            "latest": self.latest.isoformat() if self.latest else None,
            "seen": self.seen.isoformat() if self.seen else None,
            "digest": self.digest,
        }

    @classmethod
    def from_json(cls, doc: dict[str, str | None]) -> KeyHold:
        def moment(name: str) -> datetime | None:
            value = doc.get(name)
            return datetime.fromisoformat(value) if value else None

        return cls(moment("latest"), moment("seen"), doc.get("digest"))


def history_digest(version_ids: list[str]) -> str:
    """A digest of a key's source history: its VersionIds, in any order."""
    return hashlib.sha256("\n".join(sorted(version_ids)).encode()).hexdigest()


class HoldBook(Protocol):
    """Key -> what is known of its events and its source history."""

    def get(self, key: str) -> KeyHold: ...

    def put(self, key: str, hold: KeyHold) -> None: ...


def note_event(book: HoldBook, key: str, at: datetime) -> None:
    hold = book.get(key)
    if hold.latest is None or at > hold.latest:
        hold.latest = at
        book.put(key, hold)


def note_history(book: HoldBook, key: str, digest: str, now: datetime) -> bool:
    """Record the key's source history as listed now; True when it changed (or is new)."""
    hold = book.get(key)
    if hold.digest == digest and hold.seen is not None:
        return False
    hold.digest, hold.seen = digest, now
    book.put(key, hold)
    return True


class MemoryHolds:
    """A book held in memory: one process's deliveries (tests, the properties)."""

    def __init__(self) -> None:
        self.holds: dict[str, KeyHold] = {}

    def get(self, key: str) -> KeyHold:
        return self.holds.setdefault(key, KeyHold())

    def put(self, key: str, hold: KeyHold) -> None:
        self.holds[key] = hold


class S3Holds:
    """A book in the deployment's state folder, one object per key (its name a digest of
    the key: a key may be 1,024 bytes, longer than any folder leaves room for). The event
    path's function runs one delivery at a time, so a read-then-write has no rival."""

    def __init__(self, store: S3Store, bucket: str, prefix: str) -> None:
        self.store, self.bucket, self.prefix = store, bucket, prefix
        self._read: dict[str, KeyHold] = {}

    def _name(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.prefix}{digest}.json"

    def get(self, key: str) -> KeyHold:
        if key not in self._read:
            body = self.store.get_bytes_or_none(self.bucket, self._name(key))
            self._read[key] = KeyHold.from_json(json.loads(body)) if body else KeyHold()
        return self._read[key]

    def put(self, key: str, hold: KeyHold) -> None:
        body = json.dumps(hold.to_json(key), ensure_ascii=True).encode()
        self.store.put_bytes(self.bucket, self._name(key), body, "application/json")
        self._read[key] = hold
