"""The event path end to end on the local runtime (issue 20): a permanent delete at the
source, its S3 event on the queue, the real handler, the target and the hour's report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from syncpurge_handlers import events
from syncpurge_local.event_path import deliver, source_events
from syncpurge_local.runtime import LocalLambdaContext, LocalRuntime
from tests.helpers import BucketPair, age_entries, make_versioned_bucket, read_run_report
from tests.workflow.conftest import REPORTS, deploy

pytestmark = pytest.mark.workflow


def event_pair() -> tuple[BucketPair, str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = BucketPair(s3, "ev-source", "ev-target")
    for bucket in (pair.source, pair.target):
        make_versioned_bucket(s3, bucket)
    s3.create_bucket(Bucket=REPORTS)
    queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="events")
    return pair, queue["QueueUrl"]


def run_path(pair: BucketPair, queue: str, **settings: Any) -> list[dict[str, Any]]:
    config = {"sourceBucket": pair.source, "targetBucket": pair.target, "reportBucket": REPORTS}
    context = LocalLambdaContext("syncpurge-events", 900)
    return deliver(queue, {**config, **settings}, events.handler, context)


def this_hours_report(pair: BucketPair) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The event path's report of this clock hour, or of the last one when the delivery
    ran across the hour's end."""
    now = datetime.now(UTC)
    for hour in (now, now - timedelta(hours=1)):
        try:
            return read_run_report(pair.client, REPORTS, f"events-{hour:%Y-%m-%dT%H}")
        except StopIteration:
            continue
    raise AssertionError("no event path report of this hour or the last")


def synced_twice(pair: BucketPair, key: str) -> tuple[str, str]:
    """`key` written and synced twice: (the first source version, its copy's VersionId)."""
    first = pair.put(key, "one")
    pair.sync()
    copy = pair.client.list_object_versions(Bucket=pair.target, Prefix=key)["Versions"][0]
    pair.put(key, "two")
    pair.sync()
    return first, copy["VersionId"]


def test_a_version_erased_at_the_source_leaves_the_target_in_one_delivery(
    runtime: LocalRuntime,
) -> None:
    pair, queue = event_pair()
    first, orphan = synced_twice(pair, "a.txt")
    with source_events(pair.source, queue) as sent:
        pair.delete_version("a.txt", first)

    answers = run_path(pair, queue, holdMinutes=0)

    assert len(sent) == 1
    assert answers == [{"batchItemFailures": []}]
    assert orphan not in {v for _, v, _ in pair.entries()}
    summary, lines = this_hours_report(pair)
    assert [(line["key"], line["versionId"], line["outcome"]) for line in lines] == [
        ("a.txt", orphan, "purged")
    ]
    assert summary["events"]["purged"] == 1


def test_an_event_in_its_hold_stays_in_the_queue_unseen_and_nothing_is_purged(
    runtime: LocalRuntime,
) -> None:
    pair, queue = event_pair()
    first, _ = synced_twice(pair, "a.txt")
    with source_events(pair.source, queue):
        pair.delete_version("a.txt", first)
    before = pair.entries()

    answers = run_path(pair, queue, holdMinutes=60)

    assert len(answers) == 1
    assert len(answers[0]["batchItemFailures"]) == 1
    assert pair.entries() == before
    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_marker_erased_at_the_source_leaves_the_target(runtime: LocalRuntime) -> None:
    pair, queue = event_pair()
    marker, copy = pair.synced_marker("m.txt")
    with source_events(pair.source, queue):
        pair.delete_version("m.txt", marker)

    run_path(pair, queue, holdMinutes=0)

    assert copy not in {v for _, v, _ in pair.entries()}
    assert all(not is_marker for _, _, is_marker in pair.entries())


@pytest.mark.parametrize("erased", ["version", "marker"])
def test_replication_an_entry_erased_at_the_source_leaves_the_target(
    runtime: LocalRuntime, erased: str
) -> None:
    # Given S3 Replication's copy: version null shared by both sides, then (the erased
    # entry) a version or a delete marker each side holds under its own id
    pair, queue = event_pair()
    pair.share_null_version("r.txt")
    for bucket in (pair.source, pair.target):
        if erased == "version":
            pair.put("r.txt", "two", bucket=bucket)
        else:
            pair.soft_delete("r.txt", bucket=bucket)
        pair.put("r.txt", "three", bucket=bucket)
    age_entries(pair.source, pair.target, minutes=20)  # past replication's 15 min of grace
    kind = "Versions" if erased == "version" else "DeleteMarkers"
    listed = {
        bucket: [
            e["VersionId"]
            for e in pair.client.list_object_versions(Bucket=bucket, Prefix="r.txt").get(kind, [])
            if e["VersionId"] != "null" and not e.get("IsLatest")
        ]
        for bucket in (pair.source, pair.target)
    }
    with source_events(pair.source, queue):
        pair.delete_version("r.txt", listed[pair.source][0])

    run_path(pair, queue, holdMinutes=0, mode="replication")

    assert listed[pair.target][0] not in {v for _, v, _ in pair.entries()}
    assert len(pair.entries(pair.target)) == 2  # null and the current copy stay


def test_duplicated_deliveries_in_any_order_purge_once(runtime: LocalRuntime) -> None:
    pair, queue = event_pair()
    erased = {key: synced_twice(pair, key) for key in ("a.txt", "b.txt")}
    sqs = boto3.client("sqs", region_name="us-east-1")
    with source_events(pair.source, queue) as sent:
        for key, (first, _) in erased.items():
            pair.delete_version(key, first)
    for event in reversed(sent):  # S3 delivers at least once, in any order
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(event))

    run_path(pair, queue, holdMinutes=0)

    orphans = {orphan for _, orphan in erased.values()}
    assert orphans.isdisjoint({v for _, v, _ in pair.entries()})
    _, lines = this_hours_report(pair)
    assert sorted(line["versionId"] for line in lines if line["outcome"] == "purged") == sorted(
        orphans
    )


def test_while_the_batch_run_refuses_the_source_the_event_path_decides_nothing(
    runtime: LocalRuntime,
) -> None:
    # Given a source that shares no key with its copy any more: k.txt's versions were all
    # erased there, and it holds only a key never synced
    deployed = deploy(runtime)
    pair = deployed.pair
    queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="ev")["QueueUrl"]
    pair.put("k.txt", "one")
    pair.sync()
    pair.put("other.txt", "x")
    with source_events(pair.source, queue):
        pair.purge_source_key("k.txt")
    # And the batch run refuses it as unrelated (docs/design.md §5)
    refused = deployed.run({"skipSync": True, "maxPurgeFraction": 1})
    assert refused.error == "UnrelatedSource"
    before = pair.entries()

    run_path(pair, queue, holdMinutes=0, taskArn=deployed.task_arn)

    # Then the event path purges nothing of k.txt, whose copies the batch run would keep
    assert pair.entries() == before
    summary, lines = this_hours_report(pair)
    assert lines == []
    assert summary["status"] == "FAILED"
    assert "share no key in scope" in summary["events"]["refused"]
