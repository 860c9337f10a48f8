"""Re-checking a stored plan at listing cost: the fresh plan of each asked key is read off
one listing of the range that runs through the asked keys, the way a fresh run lists,
rather than off two listings of each key of its own (`apply.fresh_plan`).

`Recheck` asks for keys in increasing order. A dense plan (asked keys within a few pages
of entries of each other) is then re-checked by one diff of its range: about one LIST per
1,000 entries a side, plus what lies between the keys. Where the asked keys are far apart,
the listing would read what no one asked for, so a range stops (hands back) once it has
read `GAP_PAGES` pages of entries (both sides) since the key now asked was asked, whether
it reached that key or not; a key the range did not reach is listed on its own, and a new
range starts right after it. A sparse plan so costs a bounded few LISTs a key (its own
two, and the pages a side the range after it reads before it stops), a dense one its
range's listing. After a range fails to list (ListingFailed), keys are listed on their
own for the rest of the re-check, so a key no listing can return costs no more than it
did before ranges.

What a range planned for a key it read before the key was asked is as fresh as that read:
seconds at most (a prefetched page, a batch of HEADs), and the delete still comes later,
after the whole re-check, as it always did. Verify before destroy re-lists the source of a
vanished key right before its delete (`syncpurge.phases.verify`).

Both ways plan a key with the same rules, the same proof tiers and the same policy as a
fresh run's diff of a key range does (the key-range property tests compare the two).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from syncpurge.core.diff import DiffStats
from syncpurge.core.keyspace import KeyRange
from syncpurge.errors import ListingFailed
from syncpurge.models import KeyHistory, PlannedEntry
from syncpurge.phases.apply import PairAccess, fresh_plan
from syncpurge.phases.diffing import NullProgress, ProgressListener, planned_entries

GAP_PAGES = 4


class RangeFresh:
    """A `FreshPlan` (target bucket key -> the rules' plan for it now) for keys asked in
    increasing order, read off ranges listed once (see the module's docstring)."""

    def __init__(
        self,
        pair: PairAccess,
        prefixes: Iterable[str],
        gap: int | None = None,
        progress: ProgressListener | None = None,
    ) -> None:
        # A range that reads more than `gap` entries while one key is asked stops, so
        # what a sparse plan lists for nothing stays a few pages a key.
        self.pair = pair
        self.gap = GAP_PAGES * pair.target.page_size if gap is None else gap
        self.prefixes = tuple(prefixes) or ("",)
        self.progress = progress or NullProgress()
        self.one_key = fresh_plan(pair)
        self.range: _RangeListing | None = None
        self.ranges_failed = False

    def __call__(self, key: str) -> list[PlannedEntry]:
        relative = key[len(self.pair.scope.target_root) :]
        prefix = next((p for p in self.prefixes if relative.startswith(p)), "")
        listing = self.range
        if listing is not None and listing.prefix == prefix:
            try:
                planned = listing.plan_of(relative, key)
            except ListingFailed:
                # The range is gone, and the next one would likely meet the same key.
                planned, self.ranges_failed = None, True
            if planned is not None:
                return planned
        self.close()
        planned = self.one_key(key)  # a ListingFailed here is the key's: Recheck says so
        if not self.ranges_failed:
            self.range = _RangeListing(
                self.pair, prefix, after=relative, gap=self.gap, progress=self.progress
            )
        return planned

    def close(self) -> None:
        if self.range is not None:
            self.range.close()
            self.range = None


class _RangeListing:
    """One diff of (after, end of prefix], pulled only as far as the asked keys need."""

    def __init__(
        self, pair: PairAccess, prefix: str, *, after: str, gap: int, progress: ProgressListener
    ) -> None:
        self.prefix, self.gap = prefix, gap
        self.read_since_asked = 0  # entries the range read since the key now asked was asked
        self.stats = DiffStats()
        self.ended = False
        self.ahead: PlannedEntry | None = None  # the first planned entry past the asked key
        self.entries = planned_entries(
            source=pair.source,
            target=pair.target,
            source_bucket=pair.source_bucket,
            target_bucket=pair.target_bucket,
            prefix=prefix,
            policy=pair.policy,
            stats=self.stats,
            progress=progress,
            scope=pair.scope,
            key_range=KeyRange(after=after),
            should_hand_back=lambda: self.read_since_asked > self.gap,
            sampler=self._count,
        )

    def _count(self, side: str, histories: Iterator[KeyHistory]) -> Iterator[KeyHistory]:
        for history in histories:
            self.read_since_asked += len(history.entries)
            yield history

    def plan_of(self, relative: str, key: str) -> list[PlannedEntry] | None:
        """The fresh plan of `key` (its relative key `relative`), or None when this range
        stopped before it."""
        self.read_since_asked = 0
        found: list[PlannedEntry] = []
        while (item := self._next()) is not None:
            if item.entry.key < key:
                continue  # a key the plan has nothing to re-check at
            if item.entry.key > key:
                self.ahead = item
                return found
            found.append(item)
        return found if self.covers(relative) else None

    def _next(self) -> PlannedEntry | None:
        ahead, self.ahead = self.ahead, None
        if ahead is not None:
            return ahead
        if self.ended:
            return None
        item = next(self.entries, None)
        self.ended = item is None
        return item

    def covers(self, relative: str) -> bool:
        """Whether the ended listing diffed `relative` (it ran to the prefix's end, or
        handed back at or past it)."""
        cursor = self.stats.cursor
        if cursor is None:
            return True
        return (
            cursor.inside is None and cursor.after_key is not None and relative <= cursor.after_key
        )

    def close(self) -> None:
        self.entries.close()
