"""Purge: one plan chunk, until done or near the time limit (then it returns an offset)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import PurgeItemEvent, purge_item
from syncpurge_handlers.observability import logger, metrics, tracer
from syncpurge_handlers.runtime import stores, time_budget


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn")
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_parser(model=PurgeItemEvent)
def handler(event: PurgeItemEvent, context: LambdaContext) -> dict[str, Any]:
    result = purge_item(event, stores(), should_stop=time_budget(context))
    totals = result.tally.totals
    metrics.add_metric(name="EntriesPurged", unit=MetricUnit.Count, value=totals.purged)
    metrics.add_metric(name="EntriesRetained", unit=MetricUnit.Count, value=totals.retained)
    metrics.add_metric(name="EntriesFailed", unit=MetricUnit.Count, value=totals.failed)
    metrics.add_metric(name="BytesReclaimed", unit=MetricUnit.Bytes, value=totals.bytes_reclaimed)
    return result.progress.to_state()
