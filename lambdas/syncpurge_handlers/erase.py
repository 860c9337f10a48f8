"""Erase: an erasure's keys purged from the target, its receipt written and signed; or
(`recheck`) the recent receipts followed up after a run, a key that came back counted."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.data.clients import make_client
from syncpurge.data.signing import kms_signer, kms_verifier
from syncpurge.erasure.publish import signature_by
from syncpurge.workflow.erase import erase_step
from syncpurge.workflow.recheck import EraseEvent, recheck_step
from syncpurge_handlers.observability import logger, metrics, tracer
from syncpurge_handlers.runtime import stores, time_budget

# The stack's asymmetric KMS key that signs each receipt's digest ("": receipts unsigned).
RECEIPT_KEY_ENV = "SYNCPURGE_RECEIPT_KEY_ARN"
# The metric a key coming back raises (the stack alarms on it), and an erasure's count.
REAPPEARED_METRIC = "ErasedKeysReappeared"
ERASED_METRIC = "ErasureEntriesPurged"
UNCHECKED_METRIC = "ErasureReceiptsNotFollowedUp"


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EraseEvent)
def handler(event: EraseEvent, context: LambdaContext) -> dict[str, Any]:
    key = os.environ.get(RECEIPT_KEY_ENV, "")
    kms = make_client("kms") if key else None
    signer = signature_by(kms_signer(kms, key)) if kms is not None else None
    if not event.recheck:
        erased = erase_step(event, stores(notifications=True), signer=signer)
        purged = (erased.get("totals") or {}).get("purged", 0)
        metrics.add_metric(name=ERASED_METRIC, unit=MetricUnit.Count, value=purged)
        return erased
    verifier = kms_verifier(kms, key) if kms is not None else None
    found = recheck_step(
        event,
        stores(notifications=True),
        signer=signer,
        verifier=verifier,
        should_stop=time_budget(context),
    )
    metrics.add_metric(name=REAPPEARED_METRIC, unit=MetricUnit.Count, value=found["cameBack"])
    failed = found["failed"] + found["unreadable"]
    metrics.add_metric(name=UNCHECKED_METRIC, unit=MetricUnit.Count, value=failed)
    return found
