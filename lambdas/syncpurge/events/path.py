"""One batch of deletion notices through the event path (docs/design.md §13).

For each distinct key in scope whose hold has passed: list that key on both sides and let
the batch path's rules and HEAD proof tiers decide (`apply.fresh_plan`, the same per-key
decision `applyPlan` re-checks with), then purge through the batch path's purge: verify
before destroy, current entry last, journal before each DeleteObjects, many keys' deletes
in full batches. What the fresh listings can't prove is left to the batch run, not
recorded as skipped. A brake caps the entries purged per clock hour; past it the path
latches off and purges nothing until an operator resumes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field

from syncpurge.core.scope import Scope
from syncpurge.data.s3store import S3Store
from syncpurge.events.holds import HoldBook, note_candidates, note_event
from syncpurge.events.notices import DeletionNotice
from syncpurge.models import Outcome, PlannedEntry, ReconcileRequest
from syncpurge.phases.apply import PairAccess, fresh_plan, in_run_scope
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings
from syncpurge.phases.diffing import policy_for
from syncpurge.phases.purge import Journal, purge_plan

PROBE_PAGES = 3  # pages of the source the "holds anything in scope" check reads at most


@dataclass(frozen=True)
class EventSettings:
    hold: timedelta
    max_purge_per_hour: int


@dataclass(frozen=True)
class EventScope:
    """What the deployment's batch runs cover: the pair, the scope, the request."""

    source_bucket: str
    target_bucket: str
    scope: Scope
    request: ReconcileRequest

    def target_key(self, source_key: str) -> str | None:
        """The target key a source key maps to, None when it lies outside the scope."""
        if not source_key.startswith(self.scope.source_root):
            return None
        target_key = self.scope.target_key(source_key[len(self.scope.source_root) :])
        return target_key if self._in_scope(target_key) else None

    def targets_of(self, notice: DeletionNotice) -> set[str]:
        """The target keys in scope a notice can name (none for another bucket's)."""
        if notice.bucket != self.source_bucket:
            return set()
        return {t for t in map(self.target_key, notice.candidate_keys()) if t is not None}

    @cached_property
    def _in_scope(self) -> Callable[[str], bool]:
        return in_run_scope(self.scope, self.request.prefixes)


class BrakeState(BaseModel):
    """The brake's count for the current clock hour, and its latch."""

    model_config = ConfigDict(populate_by_name=True)

    hour: str = ""  # "2026-12-01T14", UTC
    purged: int = 0
    latched: bool = False
    latched_at: str | None = Field(default=None, alias="latchedAt")
    reason: str | None = None

    def purged_in(self, now: datetime) -> int:
        """The entries purged in `now`'s hour so far."""
        return self.purged if self.hour == hour_of(now) else 0

    def room(self, now: datetime, limit: int) -> int:
        """How many more entries may go in `now`'s hour."""
        return max(0, limit - self.purged_in(now))

    def count(self, now: datetime, purged: int) -> None:
        if self.hour != hour_of(now):
            self.hour, self.purged = hour_of(now), 0
        self.purged += purged

    def latch(self, now: datetime, reason: str) -> None:
        self.latched, self.latched_at, self.reason = True, now.isoformat(), reason


def hour_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


@dataclass
class EventBatchResult:
    received: int = 0
    # Notices whose keys' hold has not passed, each with when it will have: retry then.
    held: list[tuple[DeletionNotice, datetime]] = field(default_factory=list)
    out_of_scope: int = 0  # notices naming no key in scope
    keys: int = 0  # distinct keys decided
    left_to_batch: int = 0  # candidates the fresh listings couldn't prove
    records: list[OutcomeRecord] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, event to delete, per purge
    brake_tripped: bool = False
    latched: bool = False  # the brake was already latched: nothing decided
    refused: str | None = None  # why nothing was decided (the batch run's own verdict)

    @property
    def purged(self) -> int:
        return sum(1 for r in self.records if r.outcome is Outcome.PURGED)


@dataclass(frozen=True)
class EventState:
    """What outlives a delivery: the hold's book, and the brake with where it is kept."""

    holds: HoldBook
    brake: BrakeState
    save_brake: Callable[[BrakeState], None] = lambda _: None


def process_notices(
    notices: Iterable[DeletionNotice],
    *,
    now: datetime,
    where: EventScope,
    settings: EventSettings,
    state: EventState,
    source: S3Store,
    target: S3Store,
    purge: PurgeSettings,
    journal: Journal | None = None,
    clock: Callable[[], datetime] | None = None,
    refused: str | None = None,
) -> EventBatchResult:
    """Decide and purge the keys of `notices` whose hold has passed since their latest
    known event, and since each entry to purge first became one (syncpurge.events.holds);
    the brake is reserved before the first delete and settled after.

    `refused`: why a batch run at this moment would purge nothing (its policy's verdict:
    PRESERVE, approval; or the last batch run refused the source, docs/design.md §5 "Unrelated
    source"): then the path decides nothing either. A source that holds nothing in scope
    now is refused the same way (one LIST), so a source emptied since that run can't
    empty the target key by key."""
    result = EventBatchResult()
    first_event, named = note_events(notices, where, state.holds, result)
    if state.brake.latched:
        result.latched = True
        return result
    hold = settings.hold
    # A key noted has a latest event; the fallback is only the safe side of that.
    event_at = {k: state.holds.get(k).event_due_at(hold) or now + hold for k in first_event}
    event_due = {k for k, at in event_at.items() if at <= now}
    if event_due and refused is None and not _holds_anything(source, where):
        refused = (
            f"the source s3://{where.source_bucket}/{where.scope.source_root} holds nothing in "
            f"scope (or none in its first {PROBE_PAGES} pages under the prefixes): a wrong or "
            "emptied source never empties the target; the batch run decides"
        )
    if event_due and refused is not None:
        result.refused = refused
        return result
    # Every key named is planned now, so each candidate's own hold starts at first sight.
    plans = plan_keys(sorted(first_event), where, source=source, target=target, now=now)
    settled = {
        key: settle_key(state.holds, key, plan, event_at[key], now=now, hold=hold)
        for key, plan in plans.items()
    }
    for notice, keys in named:
        waits = [until for key in keys if (until := settled[key].waits_until) is not None]
        if waits:
            result.held.append((notice, max(waits)))
    decided = [key for key in sorted(plans) if key in event_due]
    result.keys = len(decided)
    plan = [p for key in decided for p in settled[key].ready]
    result.left_to_batch += sum(1 for key in decided for p in plans[key] if not p.to_purge)
    brake = state.brake
    if len(plan) > brake.room(now, settings.max_purge_per_hour):
        result.brake_tripped = True
        brake.latch(
            now,
            f"{len(plan)} entries to purge would pass eventMaxPurgePerHour "
            f"{settings.max_purge_per_hour} ({brake.purged_in(now)}"
            f" already purged in {hour_of(now)}); left to the batch run",
        )
        state.save_brake(brake)
        result.left_to_batch += len(plan)
        return result
    stamp = clock or (lambda: now)

    def on_outcome(record: OutcomeRecord) -> None:
        result.records.append(record)
        if record.outcome is Outcome.PURGED:
            waited = stamp() - first_event[record.planned.entry.key] - settings.hold
            result.latencies.append(max(0.0, waited.total_seconds()))

    if plan:
        # Reserved before the first delete: a delivery that dies mid-way still counts.
        brake.count(now, len(plan))
        state.save_brake(brake)
        purge_plan(
            plan,
            source=source,
            target=target,
            settings=purge,
            on_outcome=on_outcome,
            journal=journal,
        )
        brake.count(now, result.purged - len(plan))
        state.save_brake(brake)
    return result


Named = list[tuple[DeletionNotice, set[str]]]  # each notice in scope, with its target keys


def note_events(
    notices: Iterable[DeletionNotice], where: EventScope, holds: HoldBook, result: EventBatchResult
) -> tuple[dict[str, datetime], Named]:
    """Note each notice's time against every key in scope it can name. Returns key -> the
    earliest of this delivery's times for it (the latency counts from it), and the
    notices in scope with their keys."""
    first_event: dict[str, datetime] = {}
    named: Named = []
    for notice in notices:
        result.received += 1
        targets = where.targets_of(notice)
        if not targets:
            result.out_of_scope += 1
            continue
        for key in targets:
            note_event(holds, key, notice.known_at)
            first_event[key] = min(first_event.get(key, notice.known_at), notice.known_at)
        named.append((notice, targets))
    return first_event, named


@dataclass(frozen=True)
class Settled:
    ready: list[PlannedEntry]  # entries that may go now
    waits_until: datetime | None  # when the rest may (None: nothing of the key waits)


def settle_key(
    holds: HoldBook,
    key: str,
    decided: list[PlannedEntry],
    event_at: datetime,
    *,
    now: datetime,
    hold: timedelta,
) -> Settled:
    """What of `key` may go now: nothing before `event_at` (a hold after its latest known
    event), then each entry the rules would purge once it has been one for a hold (noted
    here)."""
    to_purge = [p for p in decided if p.to_purge]
    note_candidates(holds, key, {p.entry.version_id for p in to_purge}, now)
    record = holds.get(key)
    if event_at > now:
        return Settled([], event_at)
    ready_at = {p.entry.version_id: record.candidates[p.entry.version_id] + hold for p in to_purge}
    waiting = [at for at in ready_at.values() if at > now]
    ready = [p for p in to_purge if ready_at[p.entry.version_id] <= now]
    return Settled(ready, max(waiting) if waiting else None)


def plan_keys(
    keys: list[str], where: EventScope, *, source: S3Store, target: S3Store, now: datetime
) -> dict[str, list[PlannedEntry]]:
    """The batch rules and proofs on each key's fresh listings, key by key."""
    plan_key = fresh_plan(
        PairAccess(
            source,
            target,
            where.source_bucket,
            where.target_bucket,
            policy_for(where.request, now),
            where.scope,
        )
    )
    return {key: plan_key(key) for key in keys}


def _holds_anything(source: S3Store, where: EventScope) -> bool:
    """Whether the source holds a key in scope, under the run's prefixes. Undecided after
    PROBE_PAGES pages of keys outside the scope counts as no: the batch run decides."""
    for prefix in where.request.scope_prefixes():
        after = None
        for _ in range(PROBE_PAGES):
            page = source.probe_page(where.source_bucket, where.scope.source_key(prefix), after)
            if any(where.target_key(entry.key) is not None for entry in page.entries):
                return True
            if not page.is_truncated or not page.entries:
                break
            after = page.entries[-1].key
    return False
