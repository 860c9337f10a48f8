"""A Purge slice that Step Functions retries (issue 17, suspected): every delete the first
attempt made stays in a journal, though the retry's batch differs (invariant 8)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import syncpurge_handlers.purge as purge_handler
from tests.workflow.conftest import Deployed

pytestmark = pytest.mark.workflow

# The name Step Functions gives a Lambda service fault; the Purge slice retries on it.
LambdaServiceException = type("Lambda.ServiceException", (Exception,), {})


def test_a_retried_purge_slice_keeps_the_first_attempt_s_journal(
    deployed: Deployed, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = deployed.pair
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    pair.put("gone-too", "x", bucket=pair.target)  # the retry's batch: not empty
    real_handler = purge_handler.handler
    attempts: list[int] = []

    def answer_lost_once(event: Any, context: Any) -> Any:
        result = real_handler(event, context)  # S3 deletes 'gone'
        attempts.append(1)
        if len(attempts) == 1:
            # 'gone' comes back to the source, and the slice's answer never arrives
            pair.put("gone", "back")
            raise LambdaServiceException("the invocation's response was lost")
        return result

    monkeypatch.setattr(purge_handler, "handler", answer_lost_once)

    result = deployed.run({"maxPurgeFraction": 1.0, "skipSync": True})

    assert result.status == "SUCCEEDED", result.cause
    assert len(attempts) == 2
    journaled = set()
    s3 = pair.client
    report_bucket = (result.output or {})["report"].split("/")[2]
    prefix = "/".join((result.output or {})["report"].split("/")[3:])
    for item in s3.list_objects_v2(Bucket=report_bucket, Prefix=prefix + "journal/")["Contents"]:
        body = s3.get_object(Bucket=report_bucket, Key=item["Key"])["Body"].read()
        journaled |= {json.loads(line)["key"] for line in body.splitlines()}
    # The first attempt's delete of 'gone' is journaled, whatever the retry did
    assert "gone" in journaled
