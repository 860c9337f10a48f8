"""The hold, per key and across deliveries (docs/design.md §13): nothing of a key is purged until
the hold has passed since that key's latest known event, and no entry until it has been
one the rules would purge for a hold.

A delivery decides keys on fresh listings, and those listings already show every later
permanent delete of the key, including one whose event is still on its way. So a key's
hold can't be judged by the events of one delivery, nor by events alone:
- each event's time (the later of its claim and the queue's receipt) is noted against
  every key it can name, in a book kept between deliveries;
- each delivery also plans every key it names and notes the entries the rules would
  purge, each with the time it was first seen so (an entry the rules no longer select is
  struck). An entry goes only when it was already a candidate at a check a hold ago and
  still is: a delete whose event is not here yet, or a version born and erased between
  two checks, makes a candidate that must wait out its own hold. (A state of the source
  alone can't show that: a version created and erased between checks leaves no trace.)
A record outlives its use by design: nothing is ever deleted here (syncpurge deletes only
target versions); a lifecycle rule on the holds folder expires records long after any
event of theirs could still be queued.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from syncpurge.data.s3store import S3Store


@dataclass
class KeyHold:
    """What the book knows of one key."""

    latest: datetime | None = None  # the latest time an event of it was known
    # Target VersionId -> since when the rules would purge it, continuously at every check.
    candidates: dict[str, datetime] = field(default_factory=dict)

    def event_due_at(self, hold: timedelta) -> datetime | None:
        return None if self.latest is None else self.latest + hold

    def to_json(self, key: str) -> dict[str, Any]:
        return {
            "key": key,
            "latest": self.latest.isoformat() if self.latest else None,
            "candidates": {v: at.isoformat() for v, at in sorted(self.candidates.items())},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> KeyHold:
        latest = doc.get("latest")
        return cls(
            datetime.fromisoformat(latest) if latest else None,
            {v: datetime.fromisoformat(at) for v, at in (doc.get("candidates") or {}).items()},
        )


class HoldBook(Protocol):
    """Key -> what is known of its events and its candidates."""

    def get(self, key: str) -> KeyHold: ...

    def put(self, key: str, hold: KeyHold) -> None: ...


def note_event(book: HoldBook, key: str, at: datetime) -> None:
    hold = book.get(key)
    if hold.latest is None or at > hold.latest:
        hold.latest = at
        book.put(key, hold)


def note_candidates(book: HoldBook, key: str, version_ids: set[str], now: datetime) -> None:
    """The entries of `key` the rules would purge now: each keeps the time it was first
    seen so if it was a candidate at the last check too, else starts now; the others go."""
    hold = book.get(key)
    kept = {v: hold.candidates.get(v, now) for v in version_ids}
    if kept != hold.candidates:
        hold.candidates = kept
        book.put(key, hold)


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
