"""The event path's decision and purge, on moto S3 (docs/design.md §13, issue 20): a permanent
delete at the source is a hint; the key's fresh listings, the batch rules and proofs decide."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

from syncpurge.core.scope import Scope
from syncpurge.data.s3store import S3Store
from syncpurge.events.holds import MemoryHolds
from syncpurge.events.notices import DeletionNotice, parse_notice
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
from tests.engine_runs import run_engine
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration


def notice(pair: BucketPair, key: str, version_id: str, **kwargs: Any) -> DeletionNotice:
    return DeletionNotice(
        bucket=kwargs.get("bucket", pair.source),
        key_text=kwargs.get("key_text", key),
        version_id=version_id,
        time=kwargs.get("time", datetime.now(UTC)),
        event_id=f"evt-{key}-{version_id}",
    )


def run_events(
    pair: BucketPair,
    notices: list[DeletionNotice],
    *,
    request: dict[str, Any] | None = None,
    now: datetime | None = None,
    hold_minutes: int = 0,
    max_per_hour: int = 1000,
    brake: BrakeState | None = None,
    holds: MemoryHolds | None = None,
    refused: str | None = None,
) -> EventBatchResult:
    where = EventScope(
        pair.source, pair.target, Scope(), ReconcileRequest.model_validate(request or {})
    )
    return process_notices(
        notices,
        now=now or datetime.now(UTC) + timedelta(seconds=1),
        where=where,
        settings=EventSettings(timedelta(minutes=hold_minutes), max_per_hour),
        state=EventState(
            holds if holds is not None else MemoryHolds(),
            brake if brake is not None else BrakeState(),
        ),
        refused=refused,
        source=S3Store(pair.client),
        target=S3Store(pair.client),
        purge=PurgeSettings(target_bucket=pair.target, source_bucket=pair.source),
    )


def purged(result: EventBatchResult) -> set[tuple[str, str]]:
    return {
        (r.planned.entry.key, r.planned.entry.version_id)
        for r in result.records
        if r.outcome is Outcome.PURGED
    }


def target_ids(pair: BucketPair, key: str) -> set[str]:
    return {v for k, v, _ in pair.entries(pair.target, prefix=key) if k == key}


# ------------------------------------------------------------------------- datasync mode


def erased_version(pair: BucketPair, key: str = "a.txt") -> tuple[DeletionNotice, str]:
    """`key` written and synced twice; the source then permanently deletes the first
    version. Returns the notice S3 sends, and the VersionId of the copy it orphaned."""
    first = pair.put(key, "one")
    pair.sync()
    pair.put(key, "two")
    pair.sync()
    copies = sorted(
        pair.client.list_object_versions(Bucket=pair.target, Prefix=key)["Versions"],
        key=lambda v: v["LastModified"],
    )
    orphan = next(v["VersionId"] for v in copies if v["Key"] == key and not v["IsLatest"])
    pair.delete_version(key, first)
    return notice(pair, key, first), orphan


def test_a_version_erased_at_the_source_leaves_the_target(pair: BucketPair) -> None:
    event, orphan = erased_version(pair)
    before = target_ids(pair, "a.txt")

    result = run_events(pair, [event])

    assert purged(result) == {("a.txt", orphan)}
    assert target_ids(pair, "a.txt") == before - {orphan}
    assert result.keys == 1
    assert result.records[0].planned.proof is not None


def test_a_marker_erased_at_the_source_leaves_the_target(pair: BucketPair) -> None:
    marker_id, copy_id = pair.synced_marker("a.txt")
    pair.delete_version("a.txt", marker_id)

    result = run_events(pair, [notice(pair, "a.txt", marker_id)])

    assert purged(result) == {("a.txt", copy_id)}
    assert all(not m for _, _, m in pair.entries(pair.target))


def test_a_key_whose_new_copy_does_not_exist_yet_keeps_its_copy_until_the_batch_run(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given the target's only copy of a.txt is of the version the source then erased,
    # the source's new version not synced yet
    first = pair.put("a.txt", "one")
    pair.sync()
    pair.put("a.txt", "two")
    pair.delete_version("a.txt", first)
    before = pair.entries()

    result = run_events(pair, [notice(pair, "a.txt", first)])

    # Then the copy stays (the target's current entry is what the last sync wrote)
    assert purged(result) == set()
    assert pair.entries() == before
    # And once DataSync has copied the new version, the next batch run purges it
    (stale,) = {v for k, v, _ in before if k == "a.txt"}
    pair.sync()
    run, lines = run_engine(pair, tmp_path, {"maxPurgeFraction": 1.0})
    assert run.summary.status.value == "SUCCEEDED"
    assert {(line["versionId"], line["outcome"]) for line in lines} == {(stale, "purged")}
    assert stale not in {v for _, v, _ in pair.entries()}


def test_events_out_of_scope_are_ignored_and_counted(pair: BucketPair) -> None:
    event, _ = erased_version(pair, "out/a.txt")
    other_bucket = notice(pair, "in/b.txt", "v1", bucket="someone-elses")
    before = pair.entries()

    result = run_events(pair, [event, other_bucket], request={"prefixes": ["in/"]})

    assert (result.received, result.out_of_scope, result.keys) == (2, 2, 0)
    assert pair.entries() == before


def test_duplicated_and_reordered_events_purge_each_entry_once(pair: BucketPair) -> None:
    a, orphan_a = erased_version(pair, "a.txt")
    b, orphan_b = erased_version(pair, "b.txt")

    result = run_events(pair, [b, a, b, a, a])

    assert purged(result) == {("a.txt", orphan_a), ("b.txt", orphan_b)}
    assert len(result.records) == 2
    assert result.keys == 2
    again = run_events(pair, [a, b])  # delivered again later
    assert purged(again) == set()


@pytest.mark.parametrize(
    "key",
    ["a b.txt", "a+b.txt", "100%.txt", "100%25.txt", unicodedata.normalize("NFD", "café.txt")],
)
@pytest.mark.parametrize("encoded", [False, True])
def test_special_keys_purge_exactly_their_own_copies(
    pair: BucketPair, key: str, encoded: bool
) -> None:
    # Given neighbours whose text an encoding could confuse with the key, all synced
    neighbours = {"a b.txt", "a+b.txt", "100%.txt", "100%25.txt", "café.txt", "cafe\u0301.txt"}
    for other in neighbours - {key}:
        pair.put(other, "one")
    event, orphan = erased_version(pair, key)
    if encoded:  # S3's notification formats URL-encode keys
        event = notice(pair, key, event.version_id, key_text=quote_plus(key))
    others_before = {k: target_ids(pair, k) for k in neighbours - {key}}

    result = run_events(pair, [event])

    assert purged(result) == {(key, orphan)}
    assert {k: target_ids(pair, k) for k in neighbours - {key}} == others_before


def test_nothing_of_a_key_goes_before_its_hold_ends(pair: BucketPair) -> None:
    event, orphan = erased_version(pair)
    at = datetime.now(UTC) + timedelta(seconds=1)
    event = notice(pair, "a.txt", event.version_id, time=at)

    holds = MemoryHolds()  # the consumer's book: it first saw the key when S3 sent it
    run_events(pair, [event], hold_minutes=60, now=at, holds=holds)

    early = run_events(pair, [event], hold_minutes=60, now=at + timedelta(minutes=59), holds=holds)

    assert purged(early) == set()
    assert early.held == [(event, at + timedelta(minutes=60))]
    late = run_events(pair, [event], hold_minutes=60, now=at + timedelta(minutes=60), holds=holds)
    assert purged(late) == {("a.txt", orphan)}
    assert late.latencies == [0.0]  # the hold is not counted as latency


def test_the_brake_latches_at_n_plus_one_and_resume_lets_the_path_purge_again(
    pair: BucketPair,
) -> None:
    events = [erased_version(pair, f"k{i}.txt")[0] for i in range(3)]
    brake = BrakeState()
    now = datetime.now(UTC) + timedelta(seconds=1)

    first = run_events(pair, events[:2], max_per_hour=2, brake=brake, now=now)
    before = pair.entries()
    tripped = run_events(pair, events[2:], max_per_hour=2, brake=brake, now=now)

    assert len(purged(first)) == 2
    assert (tripped.brake_tripped, brake.latched) == (True, True)
    assert purged(tripped) == set()
    assert pair.entries() == before
    assert tripped.left_to_batch == 1
    still = run_events(pair, events[2:], max_per_hour=2, brake=brake, now=now + timedelta(hours=1))
    assert still.latched
    assert purged(still) == set()
    brake.latched = False  # syncpurge events resume
    resumed = run_events(
        pair, events[2:], max_per_hour=2, brake=brake, now=now + timedelta(hours=1)
    )
    assert len(purged(resumed)) == 1


# ------------------------------------------------------------------------ replication mode

REPLICATION = {"mode": "replication", "graceMinutes": 0}


def test_replication_a_version_erased_at_the_source_leaves_the_target(pair: BucketPair) -> None:
    pair.share_null_version("r.txt")
    erased = pair.put("r.txt", "two")
    orphan = pair.put("r.txt", "two", bucket=pair.target)
    pair.delete_version("r.txt", erased)
    for bucket in (pair.source, pair.target):
        pair.put("r.txt", "three", bucket=bucket)

    result = run_events(pair, [notice(pair, "r.txt", erased)], request=REPLICATION)

    assert purged(result) == {("r.txt", orphan)}


def test_replication_a_marker_erased_at_the_source_leaves_the_target(pair: BucketPair) -> None:
    pair.share_null_version("r.txt")
    for bucket in (pair.source, pair.target):
        pair.soft_delete("r.txt", bucket=bucket)
        pair.put("r.txt", "two", bucket=bucket)
    marker = pair.client.list_object_versions(Bucket=pair.source, Prefix="r.txt")
    marker_id = marker["DeleteMarkers"][0]["VersionId"]
    copy = pair.client.list_object_versions(Bucket=pair.target, Prefix="r.txt")
    copy_id = copy["DeleteMarkers"][0]["VersionId"]
    pair.delete_version("r.txt", marker_id)

    result = run_events(pair, [notice(pair, "r.txt", marker_id)], request=REPLICATION)

    assert purged(result) == {("r.txt", copy_id)}


# ------------------------------------------------------------------------------- notices


def test_an_eventbridge_event_is_read_as_its_notice_and_others_are_not_notices() -> None:
    event = {
        "source": "aws.s3",
        "detail-type": "Object Deleted",
        "id": "2ee9cc15",
        "time": "2026-12-01T14:00:00Z",
        "detail": {
            "bucket": {"name": "src"},
            "object": {"key": "a+b.txt", "version-id": "v1", "sequencer": "61"},
            "deletion-type": "Permanently Deleted",
            "reason": "DeleteObject",
        },
    }

    parsed = parse_notice(event)

    assert parsed is not None
    assert (parsed.bucket, parsed.version_id, parsed.candidate_keys()) == (
        "src",
        "v1",
        ["a+b.txt", "a b.txt"],
    )
    marker = {**event, "detail": {**event["detail"], "deletion-type": "Delete Marker Created"}}
    assert parse_notice(marker) is None
    assert parse_notice({**event, "detail-type": "Object Created"}) is None
