"""The one place Logger, Metrics and Tracer are created (service and namespace: syncpurge)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

SERVICE = "syncpurge"


class InvocationScopedEMFProvider(AmazonCloudWatchEMFProvider):
    """Every flush forgets the invocation's metrics, published or not.

    With POWERTOOLS_METRICS_DISABLED, Powertools' flush keeps the metric set (it clears it
    only after printing), yet `add_metric` prints a set whose metric reaches 100 values
    whatever the setting. A process that outlives many invocations (the local runtime, the
    tests) then printed a stray EMF document into its own stdout, in the middle of a CLI's
    `--json` answer."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        try:
            super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)
        finally:
            self.clear_metrics()


logger = Logger(service=SERVICE)
metrics = Metrics(provider=InvocationScopedEMFProvider(namespace=SERVICE, service=SERVICE))
tracer = Tracer(service=SERVICE)
