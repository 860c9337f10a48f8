"""One batch of deletion notices through the event path (DESIGN §13).

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

from syncpurge.apply import fresh_plan, in_run_scope
from syncpurge.data.s3store import S3Store
from syncpurge.deletes import OutcomeRecord, PurgeSettings
from syncpurge.diffing import policy_for
from syncpurge.events.notices import DeletionNotice
from syncpurge.models import Outcome, PlannedEntry, ReconcileRequest
from syncpurge.purge import Journal, purge_plan
from syncpurge.scope import Scope


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
    held: list[DeletionNotice] = field(default_factory=list)  # hold not over: retry later
    out_of_scope: int = 0  # notices naming no key in scope
    keys: int = 0  # distinct keys decided
    left_to_batch: int = 0  # candidates the fresh listings couldn't prove
    records: list[OutcomeRecord] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, event to delete, per purge
    brake_tripped: bool = False
    latched: bool = False  # the brake was already latched: nothing decided
    refused: str | None = None  # why nothing was decided (the batch run's own refusal)

    @property
    def purged(self) -> int:
        return sum(1 for r in self.records if r.outcome is Outcome.PURGED)


def process_notices(
    notices: Iterable[DeletionNotice],
    *,
    now: datetime,
    where: EventScope,
    settings: EventSettings,
    brake: BrakeState,
    source: S3Store,
    target: S3Store,
    purge: PurgeSettings,
    journal: Journal | None = None,
    clock: Callable[[], datetime] | None = None,
    batch_refused: str | None = None,
) -> EventBatchResult:
    """Decide and purge the keys of `notices` whose hold has passed; `brake` is updated.

    `batch_refused`: why the deployment's last batch run refused its source (DESIGN §5
    "Unrelated source"), if it did: then the path decides nothing either. A source that
    holds nothing in scope now is refused the same way (one LIST), so a source emptied
    since that run can't empty the target key by key."""
    result = EventBatchResult()
    first_event: dict[str, datetime] = {}
    held_keys: set[str] = set()
    for notice in notices:
        result.received += 1
        if notice.bucket != where.source_bucket:
            result.out_of_scope += 1
            continue
        targets = {
            t for t in (where.target_key(k) for k in notice.candidate_keys()) if t is not None
        }
        if not targets:
            result.out_of_scope += 1
            continue
        if notice.time + settings.hold > now:
            result.held.append(notice)
            held_keys |= targets
            continue
        for key in targets:
            first_event[key] = min(first_event.get(key, notice.time), notice.time)
    # Nothing of a key goes while any of its notices is still held.
    due = sorted(k for k in first_event if k not in held_keys)
    result.keys = len(due)
    if brake.latched:
        result.latched = True
        return result
    if due and batch_refused is None and not _holds_anything(source, where):
        batch_refused = (
            f"the source s3://{where.source_bucket}/{where.scope.source_root} holds nothing in "
            "scope: a wrong or emptied source never empties the target"
        )
    if due and batch_refused is not None:
        result.refused = batch_refused
        return result
    plan_key = fresh_plan(
        source=source,
        target=target,
        source_bucket=where.source_bucket,
        target_bucket=where.target_bucket,
        policy=policy_for(where.request, now),
        scope=where.scope,
    )
    plan: list[PlannedEntry] = []
    for key in due:
        decided = plan_key(key)
        result.left_to_batch += sum(1 for p in decided if not p.to_purge)
        plan += [p for p in decided if p.to_purge]
    if len(plan) > brake.room(now, settings.max_purge_per_hour):
        result.brake_tripped = True
        brake.latch(
            now,
            f"{len(plan)} entries to purge would pass eventMaxPurgePerHour "
            f"{settings.max_purge_per_hour} ({brake.purged_in(now)}"
            f" already purged in {hour_of(now)}); left to the batch run",
        )
        result.left_to_batch += len(plan)
        return result
    stamp = clock or (lambda: now)

    def on_outcome(record: OutcomeRecord) -> None:
        result.records.append(record)
        if record.outcome is Outcome.PURGED:
            waited = stamp() - first_event[record.planned.entry.key] - settings.hold
            result.latencies.append(max(0.0, waited.total_seconds()))

    purge_plan(
        plan, source=source, target=target, settings=purge, on_outcome=on_outcome, journal=journal
    )
    brake.count(now, result.purged)
    return result


def _holds_anything(source: S3Store, where: EventScope) -> bool:
    page = source.probe_page(where.source_bucket, where.scope.source_root, None)
    return any(where.target_key(entry.key) is not None for entry in page.entries) or (
        page.is_truncated
    )
