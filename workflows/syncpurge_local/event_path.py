"""The event path on the local runtime (docs/design.md §13): S3's events, a queue, the handler.

moto 5.2 sends EventBridge notifications for a bucket, but none for a versioned bucket's
deletes (`S3Backend.delete_object` notifies only an unversioned one), and its EventBridge
delivers no rule's events to an SQS target here. So `SourceEvents` emits what S3 with
EventBridge notifications on, and the stack's rule, would put on the queue for each
permanent delete at the source (an `Object Deleted` event with `deletion-type`
`Permanently Deleted`), and `deliver` polls the queue as Lambda's SQS event source does:
batches of up to 10 records to the real handler, a record it reports failed stays in the
queue (invisible for as long as the handler said), the others are deleted.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3

from syncpurge_local.datasync_copy import ACCOUNT

REGION = "us-east-1"


def deletion_event(bucket: str, key: str, version_id: str, at: datetime) -> dict[str, Any]:
    """The EventBridge event S3 sends for a permanent delete ("EventBridge event message
    structure", S3 user guide)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Deleted",
        "source": "aws.s3",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "version-id": version_id, "sequencer": "0"},
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": ACCOUNT,
            "deletion-type": "Permanently Deleted",
            "reason": "DeleteObject",
        },
    }


@contextmanager
def source_events(bucket: str, queue_url: str) -> Iterator[list[dict[str, Any]]]:
    """While open, each DeleteObject with a VersionId on `bucket` puts its event on the
    queue; yields the events sent, in order."""
    from moto.s3.models import S3Backend

    sent: list[dict[str, Any]] = []
    delete_object = S3Backend.delete_object
    sqs = boto3.client("sqs", region_name=REGION)

    def deleting(
        backend: S3Backend,
        bucket_name: str,
        key_name: str,
        version_id: str | None = None,
        bypass: bool = False,
    ) -> Any:
        answer = delete_object(backend, bucket_name, key_name, version_id, bypass)
        if bucket_name == bucket and version_id is not None and answer[0]:
            event = deletion_event(bucket, key_name, version_id, datetime.now(UTC))
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
            sent.append(event)
        return answer

    with mock.patch.object(S3Backend, "delete_object", deleting):
        yield sent


def deliver(
    queue_url: str, config: dict[str, Any], handler: Any, context: Any
) -> list[dict[str, Any]]:
    """Poll the queue until it shows nothing, handing each batch to `handler` with the
    event path's configuration in its environment; returns the handler's answers."""
    # Imported here, not at the top: the handler's Logger reads the runtime's log level.
    from syncpurge_handlers.events import CONFIG_VARIABLE

    sqs = boto3.client("sqs", region_name=REGION)
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    answers = []
    with mock.patch.dict(
        "os.environ", {CONFIG_VARIABLE: json.dumps({**config, "queueUrl": queue_url})}
    ):
        while batch := sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["SentTimestamp"]
        ).get("Messages", []):
            answer = handler({"Records": [_record(m, arn) for m in batch]}, context)
            answers.append(answer)
            failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
            for message in batch:
                if message["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return answers


def _record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's SQS event source hands it to a function: SentTimestamp
    is the queue's own, kept across returns to the queue."""
    now = str(int(datetime.now(UTC).timestamp() * 1000))
    sent = message.get("Attributes", {}).get("SentTimestamp", now)
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent,
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": now,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
