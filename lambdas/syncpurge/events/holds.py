"""The hold, per key and across deliveries (DESIGN §13): nothing of a key is purged until
the hold has passed since that key's *latest known* event.

A delivery decides keys on fresh listings, and those listings already show every later
permanent delete of the key, including one whose event is still waiting out its hold in
the queue. So a key's hold can't be judged by the events of one delivery: each event's
time (the later of its claim and the queue's receipt) is noted against every key it can
name, in a book kept between deliveries, and a key is due only when the latest time its
book holds is a hold ago. A record outlives its use by design: nothing is ever deleted
here (syncpurge deletes only target versions); a lifecycle rule on the holds folder
expires records long after any event of theirs could still be queued.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Protocol

from syncpurge.data.s3store import S3Store


class HoldBook(Protocol):
    """Key -> the latest time an event of it was known (the hold counts from it)."""

    def latest(self, key: str) -> datetime | None: ...

    def note(self, key: str, at: datetime) -> None: ...


class MemoryHolds:
    """A book held in memory: one process's deliveries (tests, the properties)."""

    def __init__(self) -> None:
        self.times: dict[str, datetime] = {}

    def latest(self, key: str) -> datetime | None:
        return self.times.get(key)

    def note(self, key: str, at: datetime) -> None:
        known = self.times.get(key)
        if known is None or at > known:
            self.times[key] = at


class S3Holds:
    """A book in the deployment's state folder, one object per key (its name a digest of
    the key: a key may be 1,024 bytes, longer than any folder leaves room for). The event
    path's function runs one delivery at a time, so a read-then-write has no rival."""

    def __init__(self, store: S3Store, bucket: str, prefix: str) -> None:
        self.store, self.bucket, self.prefix = store, bucket, prefix
        self._read: dict[str, datetime | None] = {}

    def _name(self, key: str) -> str:
        return f"{self.prefix}{hashlib.sha256(key.encode('utf-8')).hexdigest()}.json"

    def latest(self, key: str) -> datetime | None:
        if key not in self._read:
            body = self.store.get_bytes_or_none(self.bucket, self._name(key))
            doc = json.loads(body) if body is not None else None
            self._read[key] = datetime.fromisoformat(doc["latest"]) if doc else None
        return self._read[key]

    def note(self, key: str, at: datetime) -> None:
        known = self.latest(key)
        if known is not None and at <= known:
            return
        body = json.dumps({"key": key, "latest": at.isoformat()}).encode()
        self.store.put_bytes(self.bucket, self._name(key), body, "application/json")
        self._read[key] = at

