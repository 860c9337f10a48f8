"""The event path against the batch path on random histories (DESIGN §13, issue 20):
random event streams, each a subset of the source's true permanent deletes, duplicated and
reordered, never purge what a batch run at that moment would not; and a batch run after
them ends where batch runs alone end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syncpurge.data.s3store import S3Store
from syncpurge.deletes import PurgeSettings
from syncpurge.events.notices import DeletionNotice
from syncpurge.events.path import BrakeState, EventScope, EventSettings, process_notices
from syncpurge.models import ReconcileRequest
from tests.conftest import property_examples
from tests.integration.bucket_histories import KEYS, SCOPE, empty_world, listing, operation
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
        deletes: list[tuple[str, str]] = []  # every permanent delete at the source
        for op in ops:
            before = entries(listing(world.client, world.source))
            world.apply(op)
            deletes += sorted(before - entries(listing(world.client, world.source)))
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
            brake=BrakeState(),
            source=store,
            target=store,
            purge=PurgeSettings(target_bucket=world.target, source_bucket=world.source),
            batch_refused=str(dry.refusal) if dry.refusal is not None else None,
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
