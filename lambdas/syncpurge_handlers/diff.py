"""Diff: one work item, until done or near the time limit (then it returns a cursor)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import DiffItemEvent, diff_step
from syncpurge_handlers.observability import logger, tracer
from syncpurge_handlers.runtime import stores, time_budget


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn")
@tracer.capture_lambda_handler
@event_parser(model=DiffItemEvent)
def handler(event: DiffItemEvent, context: LambdaContext) -> dict[str, Any]:
    return diff_step(event, stores(), should_stop=time_budget(context))
