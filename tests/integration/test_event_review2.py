"""The hold per entry (issue 28 review, second round), on moto: an entry goes only when it
was already one to purge at a check a hold ago. A delete whose event is still in flight,
a version born and erased between two checks, a marker erased in the window, a delete
during the plan's own listing: each candidate waits out its own hold; a key written more
often than the hold is still decided; the path stays live for what has waited."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncpurge.core.scope import Scope
from syncpurge.data.s3store import S3Store
from syncpurge.events.holds import MemoryHolds
from syncpurge.events.notices import DeletionNotice
from syncpurge.events.path import (
    BrakeState,
    EventBatchResult,
    EventScope,
    EventSettings,
    EventState,
    process_notices,
)
from syncpurge.models import Outcome, ReconcileRequest
from syncpurge.phases.deletes import PurgeSettings
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration

HOUR = timedelta(minutes=60)


def _notice(pair: BucketPair, key: str, version_id: str, at: datetime) -> DeletionNotice:
    return DeletionNotice(pair.source, key, version_id, at, f"e-{key}-{version_id}", sent_at=at)


def _run(
    pair: BucketPair,
    notices: list[DeletionNotice],
    now: datetime,
    holds: MemoryHolds,
    *,
    scope: Scope | None = None,
    source: Any = None,
) -> EventBatchResult:
    return process_notices(
        notices,
        now=now,
        where=EventScope(pair.source, pair.target, scope or Scope(), ReconcileRequest()),
        settings=EventSettings(HOUR, 1000),
        state=EventState(holds, BrakeState()),
        source=source or S3Store(pair.client),
        target=S3Store(pair.client),
        purge=PurgeSettings(target_bucket=pair.target, source_bucket=pair.source),
    )


def _purged(result: EventBatchResult) -> set[str]:
    return {r.planned.entry.version_id for r in result.records if r.outcome is Outcome.PURGED}


def _three_synced(pair: BucketPair, key: str, **sync: Any) -> tuple[list[str], list[str]]:
    """`key` written three times (distinct sizes), each synced: source ids, target copies."""
    ids = []
    for body in ("one", "two!", "three"):
        ids.append(pair.put(key, body))
        pair.sync(**sync)
    target_key = sync.get("target_root", "") + key[len(sync.get("source_root", "")) :]
    copies = sorted(
        (v for v in pair.client.list_object_versions(Bucket=pair.target, Prefix=target_key)[
            "Versions"] if v["Key"] == target_key),
        key=lambda v: v["Size"],  # bodies of 3, 4, 5 bytes
    )  # fmt: skip
    return ids, [c["VersionId"] for c in copies]


# ---------------------------------------------------------------- (2) Subdirectories


def test_in_flight_delete_is_held_under_location_subdirectories(pair: BucketPair) -> None:
    """The original R4 scenario, with source 'src/' -> target 'dst/' (source_key_of)."""
    pair.put_live()
    scope = Scope(source_root="src/", target_root="dst/")
    ids, copies = _three_synced(pair, "src/a.txt", source_root="src/", target_root="dst/")
    holds = MemoryHolds()
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    pair.delete_version("src/a.txt", ids[0])
    e1 = _notice(pair, "src/a.txt", ids[0], t0)
    assert _run(pair, [e1], t0, holds, scope=scope).held
    pair.delete_version("src/a.txt", ids[1])  # its event in flight

    due = _run(pair, [e1], t0 + HOUR, holds, scope=scope)

    # v1's copy has been a candidate for its hour; v2's became one a moment ago
    assert copies[0] in _purged(due)
    assert copies[1] not in _purged(due)
    assert due.held, "the change of src/a.txt's history must hold dst/a.txt again"


# ---------------------------------------------------------------- (1) markers (Enabled)


def test_a_source_marker_erased_in_the_window_is_held(pair: BucketPair) -> None:
    """A delete marker's permanent delete changes the VersionId set: its copy waits."""
    pair.put_live()
    marker, copy_of_marker = pair.synced_marker("m.txt")
    v3 = pair.put("m.txt", "three")
    pair.sync()
    holds = MemoryHolds()
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    e = _notice(pair, "m.txt", "gone-long-ago", t0)
    assert _run(pair, [e], t0, holds).held
    pair.delete_version("m.txt", marker)  # in flight
    due = _run(pair, [e], t0 + HOUR, holds)
    assert copy_of_marker not in _purged(due)
    assert due.held
    assert v3


# ---------------------------------------------------------------- (4) the re-check


class DeletesDuringPlan:
    """The source store, where a version of `key` is permanently deleted right before
    the plan's own listing of `key` in a delivery."""

    def __init__(self, store: S3Store, pair: BucketPair, key: str, version_id: str) -> None:
        self.store, self.pair, self.key, self.version_id = store, pair, key, version_id
        self.calls = 0

    def list_pages(self, bucket: str, prefix: str, *a: Any, **k: Any) -> Any:
        if prefix == self.key:
            self.calls += 1
            if self.calls == 1:
                self.pair.delete_version(self.key, self.version_id)
        return self.store.list_pages(bucket, prefix, *a, **k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_delete_right_before_the_plan_s_own_listing_is_held(pair: BucketPair) -> None:
    pair.put_live()
    ids, copies = _three_synced(pair, "a.txt")
    holds = MemoryHolds()
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    pair.delete_version("a.txt", ids[0])
    e1 = _notice(pair, "a.txt", ids[0], t0)
    assert _run(pair, [e1], t0, holds).held
    source = DeletesDuringPlan(S3Store(pair.client), pair, "a.txt", ids[1])
    due = _run(pair, [e1], t0 + HOUR, holds, source=source)
    assert source.calls >= 1
    assert copies[1] not in _purged(due)
    assert copies[0] in _purged(due)  # v1's copy: a candidate for its hour


# ---------------------------------------------------------------- (6) liveness


def test_a_hot_key_s_message_comes_due_before_the_queue_gives_it_up(pair: BucketPair) -> None:
    """A key written more often than the hold (a log rewritten every few minutes, with a
    noncurrent-expiration rule emitting Permanently Deleted events): new writes make no
    new candidates, so the erased version's copy goes once it has waited its hold, well
    within the receives the queue allows before its dead-letter queue (RETRIES +
    hold_trips, 6 for a 60-minute hold)."""
    retries, hold_trips = 5, math.ceil(60 * 60 / (12 * 3600))
    max_receives = retries + hold_trips
    pair.put_live()
    ids, copies = _three_synced(pair, "hot.log")
    holds = MemoryHolds()
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    pair.delete_version("hot.log", ids[0])  # e.g. lifecycle expiration of a noncurrent
    e1 = _notice(pair, "hot.log", ids[0], t0)
    now, receives, gone = t0, 0, set()
    while receives < max_receives:
        receives += 1
        result = _run(pair, [e1], now, holds)
        gone |= _purged(result)
        if not result.held:
            break
        now = max(until for _, until in result.held)
        pair.put("hot.log", f"write {receives}")  # the workload writes within the hour
    assert not result.held, f"still held after {receives} receives: the message is DLQ'd"
    assert receives == 2  # first sight, then a hold later
    assert gone == {copies[0]}


# ---------------------------------------------------------------- (1) net-zero change


def test_a_version_born_and_erased_inside_the_window_leaves_the_digest_equal(
    pair: BucketPair,
) -> None:
    """Enabled versioning throughout. 'VersionIds never come back' is true, but a version
    created AFTER the first sight and erased before the due delivery leaves the VersionId set
    as it was: equal digests, yet the history changed. Its copy goes with no hold."""
    pair.put_live()
    ids, copies = _three_synced(pair, "a.txt")  # v1 'one', v2 'two!', v3 'three'
    holds = MemoryHolds()
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    # T0: v1 erased, its event delivered: first sight of a.txt, digest {v2, v3}, held 1h
    pair.delete_version("a.txt", ids[0])
    e1 = _notice(pair, "a.txt", ids[0], t0)
    assert _run(pair, [e1], t0, holds).held
    # T0+10m: the owner writes an important version X, DataSync copies it; then Y, copied
    vx = pair.put("a.txt", "important report X")
    pair.sync()
    vy = pair.put("a.txt", "Y")
    pair.sync()
    copy_of_x = next(
        v["VersionId"]
        for v in pair.client.list_object_versions(Bucket=pair.target, Prefix="a.txt")["Versions"]
        if v["Key"] == "a.txt" and v["Size"] == len("important report X")
    )
    # T0+59m: an attacker permanently deletes X and Y (their events in flight)
    pair.delete_version("a.txt", vx)
    pair.delete_version("a.txt", vy)

    # T0+60m: e1 comes back; the source's VersionIds are {v2, v3} again
    due = _run(pair, [e1], t0 + HOUR, holds)

    assert copies[0] in _purged(due)  # v1's copy: its hour has passed (the path is live)
    assert copy_of_x not in _purged(due), "X's copy purged a minute after X's erasure"
