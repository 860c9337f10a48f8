"""What every handler needs from the Lambda runtime: clients and the time budget."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.typing import LambdaContext

from syncpurge.core.diff import deadline_after
from syncpurge.data.aws import DataSyncGateway, ExecutionsGateway, NotificationGateway
from syncpurge.data.clients import make_client, make_s3_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.workflow import Stores

# Leave this much of the invocation's time to finish in-flight deletes and write results.
MARGIN_SECONDS = 60.0
MARGIN_FRACTION = 0.2


def stores(
    *, datasync: bool = False, executions: bool = False, notifications: bool = False
) -> Stores:
    """The clients a step needs, built at call time (region, credentials: the environment)."""
    return Stores(
        s3=S3Store(
            make_s3_client(),
            RequestCounter(),
            regional=lambda region: make_s3_client(region=region),
        ),
        datasync=DataSyncGateway(make_client("datasync")) if datasync else None,
        executions=ExecutionsGateway(make_client("stepfunctions")) if executions else None,
        notifications=NotificationGateway(make_client("sns")) if notifications else None,
    )


def time_budget(context: LambdaContext) -> Callable[[], bool]:
    """A should_stop that says yes in time to return a cursor before the Lambda times out."""
    remaining = context.get_remaining_time_in_millis() / 1000
    margin = min(MARGIN_SECONDS, remaining * MARGIN_FRACTION)
    return deadline_after(max(0.0, remaining - margin))
