"""Plan: split the scope into Diff work items for the Distributed Map."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import RunEvent, plan_items
from syncpurge_handlers.observability import logger, tracer
from syncpurge_handlers.runtime import stores


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn")
@tracer.capture_lambda_handler
@event_parser(model=RunEvent)
def handler(event: RunEvent, context: LambdaContext) -> dict[str, Any]:
    return plan_items(event, stores())
