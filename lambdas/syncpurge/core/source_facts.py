"""What the purge rules know of one source key, and of where a target copy came from.

`SourceFacts` reduces a source key's history to the questions the rules ask of it (sizes,
identities, same-size versions), gathered segment by segment; `Origin` is the source object
a DataSync task report says a target version was copied from. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from syncpurge.models import Entry, Mode

# Source versions of one size a HEAD proof compares a target version with; past this the
# proof would cost unbounded HEADs, so the target version is kept `unverifiable`.
MAX_SAME_SIZE = 1_000


@dataclass(frozen=True, slots=True)
class Origin:
    """The source object a DataSync transfer read, as its task report records it."""

    relative_key: str
    size: int | None
    last_modified: datetime | None  # to the second, UTC
    etag: str | None

    def is_held_by(self, version: Entry) -> bool:
        if version.is_delete_marker or version.size != self.size:
            return False
        if self.etag is not None and version.etag != self.etag:
            return False
        if self.last_modified is None:
            return True
        return version.last_modified.replace(microsecond=0) == self.last_modified

    def is_held_in(self, facts: SourceFacts) -> bool:
        """`is_held_by` some version of the source key those facts describe."""
        if self.etag is None and self.last_modified is None:
            return self.size in facts.sizes
        if self.last_modified is None:
            return (self.size, self.etag) in facts.identities
        if self.etag is None:
            return (self.size, self.last_modified) in facts.size_times
        return (self.size, self.etag, self.last_modified) in facts.stamped


Size = int | None


@dataclass(slots=True)
class SourceFacts:
    """What the rules ask of one source key's history, gathered segment by segment."""

    entries: int = 0
    has_marker: bool = False
    sizes: set[Size] = field(default_factory=set)
    identities: set[tuple[Size, str | None]] = field(default_factory=set)
    size_times: set[tuple[Size, datetime]] = field(default_factory=set)
    stamped: set[tuple[Size, str | None, datetime]] = field(default_factory=set)
    same_size: dict[Size, list[Entry]] = field(default_factory=dict)
    version_ids: set[str] = field(default_factory=set)  # replication mode only

    def add(self, entries: tuple[Entry, ...], mode: Mode, *, lineage: bool = False) -> None:
        self.entries += len(entries)
        if mode is Mode.REPLICATION:
            self.version_ids.update(e.version_id for e in entries)
            return
        for entry in entries:
            if entry.is_delete_marker:
                self.has_marker = True
                continue
            self.sizes.add(entry.size)
            self.identities.add((entry.size, entry.etag))
            if lineage:
                second = entry.last_modified.replace(microsecond=0)
                self.size_times.add((entry.size, second))
                self.stamped.add((entry.size, entry.etag, second))
            alike = self.same_size.setdefault(entry.size, [])
            if len(alike) <= MAX_SAME_SIZE:  # one past the bound marks the size crowded
                alike.append(entry)
