"""Plan: split the scope into Diff work items for the Distributed Map; after each Diff
wave, the ranges its items handed back into the next wave's (Recut)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import PlanEvent, plan_step
from syncpurge_handlers.observability import logger, tracer
from syncpurge_handlers.runtime import stores


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn")
@tracer.capture_lambda_handler
@event_parser(model=PlanEvent)
def handler(event: PlanEvent, context: LambdaContext) -> dict[str, Any]:
    return plan_step(event, stores())
