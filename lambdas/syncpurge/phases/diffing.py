"""Diff one prefix (or one key range) of a run's scope: both listings, fetched ahead and
concurrently, merged by the diff, and its candidates settled by the HeadObject tiers.

The CLI's run (`syncpurge.engine.reconcile`) and the state machine's Diff step call it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from syncpurge.core.diff import DiffCursor, DiffStats, SideCursor, diff_histories
from syncpurge.core.keyspace import KeyRange
from syncpurge.core.listing import key_histories, prefetched
from syncpurge.core.proof import KeyTally, resolve
from syncpurge.core.rules import DiffPolicy, LineageLookup
from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import ListingPage
from syncpurge.data.s3store import S3Store
from syncpurge.models import KeyHistory, PlannedEntry, ReconcileRequest
from syncpurge.phases.purge import OutcomeRecord


class ProgressListener(Protocol):
    """What a run tells whoever watches it. `listed`: entries on the pages a side read;
    `counted`: those of them inside the scope (what the summary counts); `to_recheck`: the
    entries to purge of the stored plan a run applies, and `rechecked`: how many more of
    them were re-checked; `ranges`: the key ranges of a fanned-out diff done, of all. A
    fanned-out diff tells it from several threads at once."""

    def phase(self, name: str) -> None: ...
    def listed(self, side: str, entries: int) -> None: ...
    def counted(self, side: str, entries: int) -> None: ...
    def to_recheck(self, total: int) -> None: ...
    def rechecked(self, entries: int) -> None: ...
    def ranges(self, done: int, total: int) -> None: ...
    def planned(self, item: PlannedEntry) -> None: ...
    def outcome(self, record: OutcomeRecord) -> None: ...


class NullProgress:
    def phase(self, name: str) -> None:
        pass

    def listed(self, side: str, entries: int) -> None:
        pass

    def counted(self, side: str, entries: int) -> None:
        pass

    def to_recheck(self, total: int) -> None:
        pass

    def rechecked(self, entries: int) -> None:
        pass

    def ranges(self, done: int, total: int) -> None:
        pass

    def planned(self, item: PlannedEntry) -> None:
        pass

    def outcome(self, record: OutcomeRecord) -> None:
        pass


def policy_for(
    request: ReconcileRequest, run_started: datetime, *, lineage: LineageLookup | None = None
) -> DiffPolicy:
    # Entries written after the run started are never judged, even with grace 0: they may
    # be a sync or a replication still landing.
    cutoff = run_started - timedelta(minutes=request.effective_grace_minutes)
    return DiffPolicy(
        mode=request.mode, rules=frozenset(request.rules), grace_cutoff=cutoff, lineage=lineage
    )


def diff_scope(
    *,
    on_plan: Callable[[PlannedEntry], None],
    **where: Any,
) -> DiffStats:
    """Diff one relative prefix of the scope, or one key range of it (`planned_entries`),
    handing each planned entry to `on_plan`; returns the listing's figures."""
    stats = DiffStats()
    for item in planned_entries(stats=stats, **where):
        on_plan(item)
    return stats


def planned_entries(
    *,
    source: S3Store,
    target: S3Store,
    source_bucket: str,
    target_bucket: str,
    prefix: str,
    policy: DiffPolicy,
    stats: DiffStats,
    progress: ProgressListener,
    scope: Scope | None = None,
    resume: DiffCursor | None = None,
    key_range: KeyRange | None = None,
    should_stop: Callable[[], bool] | None = None,
    should_hand_back: Callable[[], bool] | None = None,
    sampler: Callable[[str, Iterator[KeyHistory]], Iterator[KeyHistory]] | None = None,
) -> Generator[PlannedEntry, None, None]:
    """The planned entries of one relative prefix of the scope, or of one key range of it,
    in key order, listing both sides concurrently; `stats` gets the listing's figures (and
    the cursor of a stop) once the iteration ends. `sampler(side, histories)` may wrap a
    side's histories (to note boundary keys); `should_hand_back` stops it between keys
    (`diff_histories`). Leaving the iteration early stops both listings.

    The diff's candidates go through the HeadObject tiers (`syncpurge.core.proof`) before they
    are yielded, so what is planned carries its proof.
    """
    scope = scope or Scope()
    key_range = key_range or KeyRange()
    after_key = resume.after_key if resume else key_range.after
    inside = resume.inside if resume else None
    up_to = key_range.up_to

    def pages(
        store: S3Store,
        bucket: str,
        to_bucket: Callable[[str], str],
        side: SideCursor | None,
        root: str | None = None,
    ) -> Generator[ListingPage, None, None]:
        """A side's pages; with `root` (the source, which looks one key past the range),
        they go on past `up_to` until one holds a key past it that the scope admits."""
        if side is not None and side.exhausted:
            return prefetched(iter(()))
        admitted = None if root is None else (lambda key: scope.admits(key[len(root) :]))
        return prefetched(
            store.list_pages(
                bucket,
                to_bucket(prefix),
                start=side.marker if side else None,
                after=to_bucket(after_key) if after_key is not None else None,
                up_to=to_bucket(up_to) if up_to is not None else None,
                counts_past=admitted,
            )
        )

    def histories(
        side: str, listing: Iterator[ListingPage], root: str, **extra: Any
    ) -> Iterator[KeyHistory]:
        listed = key_histories(
            listing,
            lambda n: progress.listed(side, n),
            after_key=after_key,
            root=root,
            admits=scope.admits,
            up_to=up_to,
            **extra,
        )
        counted = _counted(listed, lambda n: progress.counted(side, n), up_to)
        return sampler(side, counted) if sampler is not None else counted

    source_pages = pages(
        source,
        source_bucket,
        scope.source_key,
        resume.source if resume else None,
        root=scope.source_root,
    )
    target_pages = pages(target, target_bucket, scope.target_key, resume.target if resume else None)
    with closing(source_pages), closing(target_pages):
        candidates = diff_histories(
            # the source looks one key past the range: a folder's content may lie there
            histories("source", source_pages, scope.source_root, lookahead=True),
            histories(
                "target",
                target_pages,
                scope.target_root,
                inside=(inside.key, inside.after_version) if inside else None,
            ),
            policy,
            stats,
            start_after_key=after_key,
            should_stop=should_stop,
            source_key=scope.source_key,
            inside=inside,
            up_to=up_to,
            should_hand_back=should_hand_back,
        )
        # A key the previous slice stopped inside goes on counting from where it was.
        tally = KeyTally(
            scope.target_key(inside.key) if inside else None, inside.purged if inside else 0
        )
        yield from resolve(
            candidates,
            source=source,
            target=target,
            source_bucket=source_bucket,
            target_bucket=target_bucket,
            tally=tally,
        )
    stopped = stats.cursor.inside if stats.cursor else None
    if stats.cursor is not None and stopped is not None:
        purged = tally.purged if tally.key == scope.target_key(stopped.key) else 0
        stats.cursor = replace(stats.cursor, inside=replace(stopped, purged=purged))
    stats.handed_back = stats.handed_back and stats.cursor is not None


def _counted(
    histories: Iterator[KeyHistory], count: Callable[[int], None], up_to: str | None
) -> Iterator[KeyHistory]:
    """The histories, each one's entries counted as they pass (not the source's look one
    key past a range: that key is the next range's)."""
    for history in histories:
        if up_to is None or history.key <= up_to:
            count(len(history.entries))
        yield history
