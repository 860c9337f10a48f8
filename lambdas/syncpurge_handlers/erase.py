"""Erase: an erasure's keys purged from the target, its receipt written and signed."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.data.clients import make_client
from syncpurge.data.signing import kms_signer
from syncpurge.erasure.publish import signature_by
from syncpurge.workflow.context import RunEvent
from syncpurge.workflow.erase import erase_step
from syncpurge_handlers.observability import logger, tracer
from syncpurge_handlers.runtime import stores

# The stack's asymmetric KMS key that signs each receipt's digest ("": receipts unsigned).
RECEIPT_KEY_ENV = "SYNCPURGE_RECEIPT_KEY_ARN"


@logger.inject_lambda_context(correlation_id_path="run.config.executionArn")
@tracer.capture_lambda_handler
@event_parser(model=RunEvent)
def handler(event: RunEvent, context: LambdaContext) -> dict[str, Any]:
    key = os.environ.get(RECEIPT_KEY_ENV, "")
    signer = signature_by(kms_signer(make_client("kms"), key)) if key else None
    return erase_step(event, stores(), signer=signer)
