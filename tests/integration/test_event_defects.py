"""The event path's defects the fourth review found (issue 28), each through the consumer
as one SQS delivery after another: the hold per key and from a time the consumer
controls, the brake counted before the deletes, journals no later delivery overwrites,
state that outlives the workspace, nothing ever written to the source."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from syncpurge.data.s3store import S3Store
from syncpurge.events import consumer
from syncpurge.events.consumer import BRAKE_FILE, EVENTS_FOLDER
from tests.helpers import BucketPair
from tests.integration.test_event_consumer import REPORTS, deliver, eventbridge
from tests.integration.test_event_path import erased_version, target_ids

pytestmark = pytest.mark.integration

HOUR = timedelta(minutes=60)


@pytest.fixture
def reports(pair: BucketPair) -> str:
    pair.client.create_bucket(Bucket=REPORTS)
    return REPORTS


def first_seen(pair: BucketPair, bodies: list[str], at: datetime) -> None:
    """The consumer's first sight of the keys, when the queue took their events: every one
    is held then, and the hold runs from it."""
    assert all(deliver(pair, bodies, at).return_after.values())


def journal_keys(pair: BucketPair) -> dict[str, bytes]:
    listed = pair.client.list_objects_v2(Bucket=REPORTS, Prefix="Purge-Reports/")
    return {
        o["Key"]: pair.client.get_object(Bucket=REPORTS, Key=o["Key"])["Body"].read()
        for o in listed.get("Contents", [])
        if "/journal/" in o["Key"]
    }


def test_a_key_s_earlier_event_waits_out_the_hold_of_its_later_one(
    pair: BucketPair, reports: str
) -> None:
    # Given a.txt written three times and synced, then at T its first version erased
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    versions = []
    for body in ("one", "two!", "three"):
        versions.append(pair.put("a.txt", body))
        pair.sync()
    first_event = eventbridge(pair, "a.txt", versions[0], t0)
    pair.delete_version("a.txt", versions[0])
    # and at T+50 its second version erased too, whose event waits in the queue
    later_event = eventbridge(pair, "a.txt", versions[1], t0 + timedelta(minutes=50))
    pair.delete_version("a.txt", versions[1])
    held = deliver(pair, [later_event], t0 + timedelta(minutes=50))
    assert held.return_after == {"m0": 3600}
    before = target_ids(pair, "a.txt")

    # When the earlier event comes back alone once its own hold is over
    early = deliver(pair, [first_event], t0 + HOUR)

    # Then nothing of the key goes until an hour after its latest event
    assert target_ids(pair, "a.txt") == before
    assert early.return_after == {"m0": 50 * 60}
    assert early.result.purged == 0
    due = deliver(pair, [first_event, later_event], t0 + timedelta(minutes=110))
    assert due.result.purged == 2


def test_another_key_text_that_decodes_to_the_key_waits_out_its_hold(
    pair: BucketPair, reports: str
) -> None:
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    event, _ = erased_version(pair, "a b")  # the key has a space
    later = eventbridge(pair, "a b", event.version_id, t0 + timedelta(minutes=50))
    deliver(pair, [later], t0 + timedelta(minutes=50))
    before = target_ids(pair, "a b")

    # 'a+b' is the form-encoded reading of 'a b': it names the key too
    early = deliver(pair, [eventbridge(pair, "a+b", event.version_id, t0)], t0 + HOUR)

    assert target_ids(pair, "a b") == before
    assert early.result.purged == 0


def test_a_message_dated_in_the_past_waits_the_hold_from_when_the_queue_took_it(
    pair: BucketPair, reports: str
) -> None:
    event, _ = erased_version(pair)
    now = datetime.now(UTC) + timedelta(seconds=1)
    # a message any sender could post, claiming the delete happened two hours ago
    forged = eventbridge(pair, "a.txt", event.version_id, now - 2 * HOUR)
    before = pair.entries()

    delivery = deliver(pair, [forged], now, sent_at=now)

    assert pair.entries() == before
    assert delivery.return_after == {"m0": 3600}


def failing_brake_save_after_deletes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function dies after its DeleteObjects: the next write of the brake fails."""
    deleted = []
    real_delete, real_put = S3Store.delete_versions, S3Store.put_bytes

    def delete(self: S3Store, *args: Any, **kwargs: Any) -> Any:
        deleted.append(True)
        return real_delete(self, *args, **kwargs)

    def put(self: S3Store, bucket: str, key: str, *args: Any) -> None:
        if deleted and key.endswith(BRAKE_FILE):
            raise TimeoutError("Task timed out")
        real_put(self, bucket, key, *args)

    monkeypatch.setattr(S3Store, "delete_versions", delete)
    monkeypatch.setattr(S3Store, "put_bytes", put)


def test_a_delivery_that_dies_after_its_deletes_still_counts_against_the_brake(
    pair: BucketPair, reports: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [erased_version(pair, f"k{i}.txt")[0] for i in range(6)]
    now = datetime.now(UTC) + timedelta(seconds=1)
    bodies = [eventbridge(pair, e.key_text, e.version_id, now - HOUR) for e in events]
    first_seen(pair, bodies, now)
    later = now + HOUR
    with monkeypatch.context() as patched:
        failing_brake_save_after_deletes(patched)
        with pytest.raises(TimeoutError):
            deliver(pair, bodies[:3], later, max_purge_per_hour=3)
    gone = pair.entries()

    # Then the next delivery of the hour finds the brake's room used up
    after = deliver(pair, bodies[3:], later + timedelta(minutes=1), max_purge_per_hour=3)

    assert after.result.brake_tripped
    assert pair.entries() == gone
    brake = json.loads(
        pair.client.get_object(Bucket=REPORTS, Key=f"{EVENTS_FOLDER}{BRAKE_FILE}")["Body"].read()
    )
    assert (brake["purged"], brake["latched"]) == (3, True)


def test_a_dead_delivery_s_journal_is_never_overwritten_by_the_next(
    pair: BucketPair, reports: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = [erased_version(pair, f"k{i}.txt")[0] for i in range(2)]
    now = datetime.now(UTC) + timedelta(seconds=1)
    bodies = [eventbridge(pair, e.key_text, e.version_id, now - HOUR) for e in events]
    first_seen(pair, bodies, now)
    later = now + HOUR
    with monkeypatch.context() as patched:  # dies before the hour's summary is written
        patched.setattr(consumer, "write_summary_doc", lambda *_: (_ for _ in ()).throw(
            TimeoutError("Task timed out")))  # fmt: skip
        with pytest.raises(TimeoutError):
            deliver(pair, bodies[:1], later)
    first = journal_keys(pair)
    assert len(first) == 1

    deliver(pair, bodies[1:], later + timedelta(minutes=1))

    journals = journal_keys(pair)
    assert len(journals) == 2
    assert {k: journals[k] for k in first} == first  # the dead delivery's record stands


def test_the_brake_lives_outside_the_expiring_workspace(pair: BucketPair, reports: str) -> None:
    events = [erased_version(pair, f"k{i}.txt")[0] for i in range(2)]
    now = datetime.now(UTC) + timedelta(seconds=1)
    bodies = [eventbridge(pair, e.key_text, e.version_id, now - HOUR) for e in events]
    first_seen(pair, bodies, now)

    deliver(pair, bodies, now + HOUR, max_purge_per_hour=1)

    keys = [o["Key"] for o in pair.client.list_objects_v2(Bucket=REPORTS)["Contents"]]
    assert "syncpurge-state/events/brake.json" in keys
    assert not [k for k in keys if k.startswith("syncpurge-work/")]
