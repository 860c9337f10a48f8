"""The handlers' Metrics: disabled metrics neither pile up nor print."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.metrics import MetricUnit

from syncpurge_handlers.observability import metrics

pytestmark = pytest.mark.unit


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> None:
    metrics.add_metric(name="EntriesPurged", unit=MetricUnit.Count, value=event["purged"])


def test_disabled_metrics_print_nothing_however_many_invocations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given metrics disabled, as the local runtime and the tests run the handlers
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")

    # When one process runs more invocations than an EMF metric holds values (100)
    for _ in range(150):
        handler({"purged": 1}, None)

    # Then nothing was printed
    assert capsys.readouterr().out == ""

    # And an enabled invocation afterwards publishes its own value alone
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    handler({"purged": 7}, None)
    document = json.loads(capsys.readouterr().out)
    assert document["EntriesPurged"] == [7.0]
