"""Report: summary.json and entries files, the run's metrics (EMF) and notification;
runs on success and on failure."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.workflow import ReportEvent, report
from syncpurge_handlers.observability import logger, metrics, tracer
from syncpurge_handlers.runtime import stores

# summary.json totals -> the run's metrics (the dashboard graphs these).
RUN_METRICS = {
    "planned": ("RunPlanned", MetricUnit.Count),
    "purged": ("RunPurged", MetricUnit.Count),
    "retained": ("RunRetained", MetricUnit.Count),
    "skipped": ("RunSkipped", MetricUnit.Count),
    "failed": ("RunFailed", MetricUnit.Count),
    "bytesReclaimed": ("RunBytesReclaimed", MetricUnit.Bytes),
}
# One count per run under its status.
STATUS_METRICS = {
    "SUCCEEDED": "RunsSucceeded",
    "DRY_RUN": "RunsDryRun",
    "GUARD_TRIPPED": "RunsGuardTripped",
    "FAILED": "RunsFailed",
}


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn || config.executionArn")
@metrics.log_metrics
@tracer.capture_lambda_handler
@event_parser(model=ReportEvent)
def handler(event: ReportEvent, context: LambdaContext) -> dict[str, Any]:
    result = report(event, stores(notifications=True))
    totals = result["summary"]["totals"]
    for field, (name, unit) in RUN_METRICS.items():
        metrics.add_metric(name=name, unit=unit, value=totals.get(field, 0))
    # One count per run under its status: SUCCEEDED, DRY_RUN, GUARD_TRIPPED or FAILED.
    metrics.add_metric(
        name=f"Runs{result['status'].title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    metrics.add_metadata(key="runId", value=result["summary"]["runId"])
    return result
