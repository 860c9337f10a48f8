"""The event path (docs/design.md §13): one SQS delivery of S3's permanent-delete events."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.data.aws import QueueGateway
from syncpurge.data.clients import make_client
from syncpurge.events.consumer import EventPathConfig, QueuedEvent, receive
from syncpurge_handlers.observability import logger, metrics, tracer
from syncpurge_handlers.runtime import stores

CONFIG_VARIABLE = "SYNCPURGE_EVENT_PATH"  # the deployment's EventPathConfig, as JSON


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_parser(model=SqsModel)
def handler(event: SqsModel, context: LambdaContext) -> dict[str, Any]:
    config = EventPathConfig.model_validate(json.loads(os.environ[CONFIG_VARIABLE]))
    # SentTimestamp is the queue's, not the sender's: the hold counts from it at the latest.
    messages = [
        QueuedEvent(r.messageId, str(r.body), r.receiptHandle, r.attributes.SentTimestamp)
        for r in event.Records
    ]
    response, delivery = receive(
        messages,
        config=config,
        stores=stores(datasync=bool(config.task_arn), notifications=True),
        queue=QueueGateway(make_client("sqs")),
        now=datetime.now(UTC),
    )
    result = delivery.result
    metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=result.received)
    metrics.add_metric(name="EventPurged", unit=MetricUnit.Count, value=result.purged)
    for seconds in result.latencies:
        metrics.add_metric(name="EventLatencySeconds", unit=MetricUnit.Seconds, value=seconds)
    metrics.add_metric(name="BrakeTripped", unit=MetricUnit.Count, value=int(result.brake_tripped))
    logger.info("event path delivery", extra={"report": delivery.report, **response})
    return response
