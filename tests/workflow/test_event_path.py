"""The event path end to end on the local runtime (issue 20): a permanent delete at the
source, its S3 event on the queue, the real handler, the target and the hour's report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from syncpurge_handlers import events
from syncpurge_local.event_path import deliver, source_events
from syncpurge_local.runtime import LocalLambdaContext, LocalRuntime
from tests.helpers import BucketPair, make_versioned_bucket, read_run_report
from tests.workflow.conftest import REPORTS

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
    summary, lines = read_run_report(
        pair.client, REPORTS, f"events-{datetime.now(UTC):%Y-%m-%dT%H}"
    )
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
