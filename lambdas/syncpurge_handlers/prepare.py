"""Prepare: validate the request, run the preflight, read the DataSync task."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import PrepareEvent, prepare
from syncpurge_handlers.observability import logger, tracer
from syncpurge_handlers.runtime import stores


@logger.inject_lambda_context(correlation_id_path="config.executionArn")
@tracer.capture_lambda_handler
@event_parser(model=PrepareEvent)
def handler(event: PrepareEvent, context: LambdaContext) -> dict[str, Any]:
    return prepare(event, stores(datasync=True, executions=True))
