"""The event path against the batch path on random histories (docs/design.md §13, issue 20):
random event streams, each a subset of the source's true permanent deletes, duplicated and
reordered, never purge what a batch run at that moment would not; and a batch run after
them ends where batch runs alone end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syncpurge.core.policy import PolicySettings, RunPolicy, build_policy
from syncpurge.data.aws import S3Location, TaskFacts
from syncpurge.data.s3store import S3Store
from syncpurge.events.holds import MemoryHolds
from syncpurge.events.notices import DeletionNotice
from syncpurge.events.path import (
    BrakeState,
    EventScope,
    EventSettings,
    EventState,
    process_notices,
)
from syncpurge.models import ReconcileRequest
from syncpurge.phases.deletes import PurgeSettings
from tests.conftest import property_examples
from tests.integration.bucket_histories import (
    KEYS,
    SCOPE,
    World,
    empty_world,
    listing,
    operation,
)
from tests.integration.test_properties import run

pytestmark = pytest.mark.integration


def entries(listed: dict[str, list[dict[str, Any]]]) -> set[tuple[str, str]]:
    return {(key, e["VersionId"]) for key, es in listed.items() for e in es}


# A history, a sync, then permanent deletes (and perhaps another sync): the shape in which
# the event path has something to decide; the history alone covers the rest.
deletions = st.lists(
    st.one_of(
        st.tuples(st.just("delete_version"), st.sampled_from(KEYS), st.integers(0, 5)),
        st.tuples(st.just("delete_oldest"), st.sampled_from(KEYS)),
    ),
    min_size=1,
    max_size=6,
)
histories = st.tuples(
    st.lists(operation, min_size=1, max_size=20),
    deletions,
    st.lists(st.tuples(st.just("sync"), st.booleans()), max_size=1),
).map(lambda parts: [*parts[0], ("sync", False), *parts[1], *parts[2]])


@settings(
    max_examples=property_examples(4),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=histories, data=st.data())
def test_events_purge_only_what_a_batch_run_would_and_a_batch_run_after_them_converges(
    monkeypatch: pytest.MonkeyPatch, ops: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    with empty_world(monkeypatch) as (world, tmp):
        for op in ops:
            world.apply(op)
        deletes = world.erased  # every permanent delete at the source
        source_before = listing(world.client, world.source)
        target_before = entries(listing(world.client, world.target))
        # What a batch run at this moment would purge: its dry run's plan
        dry, lines = run(world, tmp / "dry", 1000, dryRun=True)
        batch_plan = {
            (line["key"], line["versionId"]) for line in lines if line["outcome"] == "planned"
        }

        # When S3 delivers a subset of the deletes, some twice, in any order
        stream = data.draw(
            st.lists(st.sampled_from(deletes), max_size=12) if deletes else st.just([])
        )
        now = datetime.now(UTC) + timedelta(seconds=1)
        notices = [
            DeletionNotice(world.source, key, vid, now - timedelta(seconds=5), f"e{i}")
            for i, (key, vid) in enumerate(stream)
        ]
        store = S3Store(world.client)
        result = process_notices(
            notices,
            now=now,
            where=EventScope(world.source, world.target, SCOPE, ReconcileRequest()),
            settings=EventSettings(timedelta(0), 1000),
            state=EventState(MemoryHolds(), BrakeState()),
            source=store,
            target=store,
            purge=PurgeSettings(target_bucket=world.target, source_bucket=world.source),
            refused=str(dry.refusal) if dry.refusal is not None else None,
        )

        # Then it purged nothing the batch run would not (invariants 1, 6, 7, 8 are the
        # batch plan's, checked by test_properties), and never touched the source (2)
        purged = {
            (r.planned.entry.key, r.planned.entry.version_id)
            for r in result.records
            if r.outcome.value == "purged"
        }
        assert purged <= batch_plan
        assert target_before - entries(listing(world.client, world.target)) == purged
        assert listing(world.client, world.source) == source_before
        event(f"event path purged {min(len(purged), 3)}{'+' if len(purged) > 3 else ''}")
        # And a batch run after it ends where the batch run alone would have
        after, _ = run(world, tmp / "batch", 1000)
        if dry.refusal is None:
            assert entries(listing(world.client, world.target)) == target_before - batch_plan
        else:
            assert after.refusal is not None


# ------------------------------------------------------------------ through the one policy


def task_policy(world: World, preserve: str) -> RunPolicy:
    """The policy the batch and the event doors both get: the task's scope (the world's
    SCOPE as a task's Excludes) and its PreserveDeletedFiles."""
    facts = TaskFacts(
        task_arn="arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0",
        task_id="task-0123456789abcdef0",
        source=S3Location(world.source, ""),
        target=S3Location(world.target, ""),
        preserve_deleted_files=preserve,
        report_bucket=None,
        report_subdirectory="",
        excludes=({"FilterType": "SIMPLE_PATTERN", "Value": "|".join(SCOPE.excludes)},),
    )
    settings = PolicySettings(world.source, world.target, report_bucket="reports")
    return build_policy(settings, facts, ReconcileRequest(), run_id="events-hour")


# An event as the queue hands it: which true delete it names (or a key it never deleted),
# its claimed time and when the queue took it, both in minutes before the delivery, and in
# which of two deliveries it comes (late ones in the second).
stream_events = st.tuples(
    st.integers(0, 30),  # index into the true deletes (past the end: a forged key)
    st.integers(0, 180),  # claimed: up to three hours ago (a forged date included)
    st.integers(0, 90),  # queued: when SQS took it
    st.integers(0, 1),  # delivery
)


@settings(
    max_examples=property_examples(4),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=histories,
    stream=st.lists(stream_events, max_size=12),
    preserve=st.sampled_from(["REMOVE", "PRESERVE"]),
    hold_minutes=st.sampled_from([0, 60]),
)
def test_the_event_path_never_purges_what_a_batch_run_would_not_nor_before_the_hold(
    monkeypatch: pytest.MonkeyPatch,
    ops: list[tuple[Any, ...]],
    stream: list[tuple[int, int, int, int]],
    preserve: str,
    hold_minutes: int,
) -> None:
    """docs/design.md §13 as a property, through the one policy: random histories, random event
    streams (duplicated, reordered, late, dated by a sender in the past, naming keys never
    deleted), a task that keeps deletes or not. Every entry the event path purges is one
    the batch run at that moment would purge, and none goes before the hold has passed
    since its key's latest event the consumer knew, timed by the queue, not the claim."""
    with empty_world(monkeypatch) as (world, tmp):
        for op in ops:
            world.apply(op)
        deletes = world.erased  # every permanent delete at the source
        policy = task_policy(world, preserve)
        dry, lines = run(world, tmp / "dry", 1000, dryRun=True)
        would_purge = (
            set()
            if policy.preserve_blocks or dry.refusal is not None
            else {
                (line["key"], line["versionId"]) for line in lines if line["outcome"] == "planned"
            }
        )
        target_before = entries(listing(world.client, world.target))
        now = datetime.now(UTC) + timedelta(seconds=1)
        named = [*deletes, ("a.txt", "never-deleted")]
        state = EventState(MemoryHolds(), BrakeState())
        known: dict[str, datetime] = {}  # key -> the latest time the consumer knew of it
        purged: set[tuple[str, str]] = set()
        store = S3Store(world.client)
        for delivery in (0, 1):
            at = now + timedelta(minutes=61 * delivery)
            notices = []
            for i, (which, claimed, queued, sent_in) in enumerate(stream):
                if sent_in != delivery:
                    continue
                key, version_id = named[which % len(named)]
                sent_at = at - timedelta(minutes=min(queued, claimed + 1))
                notices.append(
                    DeletionNotice(
                        world.source, key, version_id, at - timedelta(minutes=claimed),
                        f"e{i}", sent_at=sent_at,
                    )
                )  # fmt: skip
            for notice in notices:
                for key in notice.candidate_keys():
                    known[key] = max(known.get(key, notice.known_at), notice.known_at)
            result = process_notices(
                notices,
                now=at,
                where=EventScope(world.source, world.target, policy.scope, policy.request),
                settings=EventSettings(timedelta(minutes=hold_minutes), 1000),
                state=state,
                source=store,
                target=store,
                purge=PurgeSettings(target_bucket=world.target, source_bucket=world.source),
                refused=policy.unattended_refusal()
                or (str(dry.refusal) if dry.refusal is not None else None),
            )
            for record in result.records:
                if record.outcome.value == "purged":
                    key = record.planned.entry.key
                    purged.add((key, record.planned.entry.version_id))
                    # never before the hold since the key's latest known event
                    assert at >= known[key] + timedelta(minutes=hold_minutes)
        assert purged <= would_purge
        assert target_before - entries(listing(world.client, world.target)) == purged
        event(f"{preserve}, event path purged {'some' if purged else 'none'}")
