"""Report: summary.json and entries files; runs on success and on failure."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import ReportEvent, report
from syncpurge_handlers.observability import logger, tracer
from syncpurge_handlers.runtime import stores


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn || config.executionArn")
@tracer.capture_lambda_handler
@event_parser(model=ReportEvent)
def handler(event: ReportEvent, context: LambdaContext) -> dict[str, Any]:
    return report(event, stores())
