"""Applying a stored plan (docs/design.md §5, §7 `applyPlan`): purge exactly what an earlier run
planned, each entry re-checked first against fresh listings of its key.

An entry goes only if the rules, run again on its key's current source and target
histories, still select it for purging (with a proof, the HEAD tiers included); anything
else is skipped `stale`. Entries the earlier plan skipped stay skipped; entries it did not
plan are never added. A key whose fresh listings fail after retries can't be re-checked:
its entries are skipped `unverifiable`, naming the request and the error, and the rest of
the plan goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.listing import key_histories
from syncpurge.core.proof import resolve
from syncpurge.core.rules import DiffPolicy
from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import ListingPage
from syncpurge.data.s3store import S3Store
from syncpurge.errors import FailureStreak, InvalidInput, ListingFailed
from syncpurge.models import Mode, PlannedEntry, ReconcileRequest, Rule, SkipReason

FreshPlan = Callable[[str], list[PlannedEntry]]


def applying(
    request: ReconcileRequest, *, mode: Mode, rules: Iterable[Rule], prefixes: Iterable[str]
) -> ReconcileRequest:
    """The request a stored plan is applied with: the plan's mode, rules and prefixes (it is
    re-checked by the rules that made it), never a sync, the caller's limits."""
    update = {"mode": mode, "rules": list(rules), "prefixes": list(prefixes), "skip_sync": True}
    return request.model_copy(update=update)


class Recheck:
    """Re-checks a stored plan key by key, against fresh listings of each key.

    `in_scope` says whether a target bucket key lies in the scope of the run applying the
    plan (its task's Subdirectory, Includes and Excludes as they are now): an entry outside
    it is never deleted, whatever the plan says. A plan is a file people may edit: an entry
    listed twice counts once, and a key whose lines are not together, in key order, is
    refused before anything is deleted.
    """

    def __init__(self, fresh_for_key: FreshPlan, in_scope: Callable[[str], bool]) -> None:
        self.fresh_for_key, self.in_scope = fresh_for_key, in_scope
        self.order = KeyOrder()
        self.streak = FailureStreak("applyPlan could not list keys again")

    def key(self, group: Iterable[PlannedEntry]) -> Iterator[PlannedEntry]:
        """One key's stored lines, re-checked, each entry once."""
        entries = each_entry_once(group)
        if not entries:
            return
        key = entries[0].entry.key
        self.order.check(key)
        if not any(p.to_purge for p in entries):
            yield from entries
            return
        if not self.in_scope(key):
            why = "it lies outside this run's scope"
            yield from (_stale(item, why) if item.to_purge else item for item in entries)
            return
        try:
            fresh = {p.entry.version_id: p for p in self.fresh_for_key(key)}
        except ListingFailed as failure:
            self.streak.failed(failure)
            why = f"the key could not be listed again to re-check it: {failure}"
            yield from (_unverifiable(item, why) if item.to_purge else item for item in entries)
            return
        self.streak.succeeded()
        for item in entries:
            kept = _rechecked(item, fresh.get(item.entry.version_id))
            # A re-check only shrinks a plan: each stored line gives one line, of the same
            # entry, purged only if the stored one was planned (the guard relies on it).
            assert kept.entry.key == key
            assert kept.entry.version_id == item.entry.version_id
            assert item.to_purge or not kept.to_purge
            yield kept


class KeyOrder:
    """A stored plan's keys as a run writes them: each key's lines together, keys in order.
    Anything else (a hand edit) refuses the run before anything is deleted."""

    def __init__(self) -> None:
        self.previous: str | None = None

    def check(self, key: str) -> None:
        if self.previous is not None and key <= self.previous:
            raise InvalidInput(
                f"applyPlan: the stored plan is not in key order ({key!r} comes after "
                f"{self.previous!r}); each key's lines must be together, keys in order, as "
                "a run writes them"
            )
        self.previous = key


def _rechecked(item: PlannedEntry, now: PlannedEntry | None) -> PlannedEntry:
    """A stored line as it stands now: as stored if it was skipped; else the fresh plan's
    line for the same entry if the rules still purge it, else skipped `stale`."""
    if not item.to_purge:
        return item
    if now is not None and now.to_purge:
        return _with_stored_predecessor(now, item)
    why = f"now {now.skip.value}" if now and now.skip else "no rule selects it now"
    return _stale(item, why)


def each_entry_once(group: Iterable[PlannedEntry]) -> list[PlannedEntry]:
    """One key's stored lines with each VersionId once (its first line), in plan order."""
    first: dict[str, PlannedEntry] = {}
    for planned in group:
        first.setdefault(planned.entry.version_id, planned)
    return list(first.values())


def recheck(
    stored: Iterable[PlannedEntry], fresh_for_key: FreshPlan, in_scope: Callable[[str], bool]
) -> Iterator[PlannedEntry]:
    """The stored plan, key by key, with what no longer qualifies skipped `stale`."""
    checker = Recheck(fresh_for_key, in_scope)
    for _, group in groupby(stored, key=lambda p: p.entry.key):
        yield from checker.key(group)


def _stale(item: PlannedEntry, why: str) -> PlannedEntry:
    return dataclasses.replace(
        item,
        skip=SkipReason.STALE,
        proof=None,
        detail=f"the applied plan's entry no longer qualifies ({why})",
    )


def _unverifiable(item: PlannedEntry, why: str) -> PlannedEntry:
    return dataclasses.replace(item, skip=SkipReason.UNVERIFIABLE, proof=None, detail=why)


def _with_stored_predecessor(now: PlannedEntry, stored: PlannedEntry) -> PlannedEntry:
    """A fresh listing of one key sees no source key before it; the stored plan's does, so
    verify-by-range starts there as it would in the run that made the plan."""
    kept = stored.source_predecessor
    if now.source_predecessor is not None or now.rule is not Rule.VANISHED_KEY or kept is None:
        return now
    if not kept < now.mapped_source_key:
        return now
    return dataclasses.replace(now, source_predecessor=kept)


def in_run_scope(scope: Scope, prefixes: Iterable[str]) -> Callable[[str], bool]:
    """Whether a target bucket key lies under the scope's target root, under one of the
    run's relative `prefixes`, and passes the scope's filters."""
    wanted = tuple(prefixes)

    def holds(key: str) -> bool:
        if not key.startswith(scope.target_root):
            return False
        relative = key[len(scope.target_root) :]
        if wanted and not relative.startswith(wanted):
            return False
        return scope.admits(relative)

    return holds


def only_key(pages: Iterable[ListingPage], key: str) -> Iterator[ListingPage]:
    """A `Prefix=key` listing cut to exactly `key`: it stops at the first longer key."""
    for page in pages:
        mine = [e for e in page.entries if e.key == key]
        if mine:
            yield ListingPage(mine, [], False, page.marker)
        if len(mine) < len(page.entries):
            return


@dataclass(frozen=True, slots=True)
class PairAccess:
    """The two buckets a re-check lists, and the rules it plans with."""

    source: S3Store
    target: S3Store
    source_bucket: str
    target_bucket: str
    policy: DiffPolicy
    scope: Scope

    def listing(self) -> dict[str, Any]:
        """The pair as `phases.diffing.diff_scope` takes it (its keyword arguments)."""
        return {name.name: getattr(self, name.name) for name in dataclasses.fields(self)}


def fresh_plan(pair: PairAccess) -> FreshPlan:
    """What the rules plan today for one target key (its bucket key), from fresh listings."""
    scope = pair.scope

    def plan_key(key: str) -> list[PlannedEntry]:
        # recheck asks only for keys in scope: never map a key by cutting a root it lacks
        assert key.startswith(scope.target_root), key
        relative = key[len(scope.target_root) :]
        source_key = scope.source_key(relative)
        candidates = diff_histories(
            key_histories(
                only_key(pair.source.list_pages(pair.source_bucket, source_key), source_key),
                root=scope.source_root,
            ),
            key_histories(
                only_key(pair.target.list_pages(pair.target_bucket, key), key),
                root=scope.target_root,
            ),
            pair.policy,
            DiffStats(),
            source_key=scope.source_key,
        )
        return list(
            resolve(
                candidates,
                source=pair.source,
                target=pair.target,
                source_bucket=pair.source_bucket,
                target_bucket=pair.target_bucket,
            )
        )

    return plan_key
