"""Data access: how the S3 and AWS clients are built (one session per process and
profile, the retry policy, the fast timestamp parser). `s3store` and `aws` use them."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.utils import parse_timestamp as botocore_parse_timestamp

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# `standard` retries throttling (503 SlowDown) and transient 5xx with exponential backoff
# and jitter; 10 attempts rides out a burst of SlowDown on a hot prefix.
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    max_pool_connections=32,
)


def parse_timestamp(value: str) -> datetime:
    """S3's ISO 8601 timestamps in ~1 us instead of dateutil's ~75 us.

    A listing page carries 1,000 LastModified values; with botocore's default parser they
    cost more CPU than the diff itself. Anything not ISO 8601 (HTTP-date headers) goes to
    botocore's own parser.
    """
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return botocore_parse_timestamp(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_session_lock = threading.Lock()
_sessions: dict[str | None, boto3.session.Session] = {}


def shared_session(profile: str | None = None) -> boto3.session.Session:
    """One boto3 session per process (and named profile), with the fast timestamp parser.

    Building a session loads botocore's service data (~100 ms); clients from a shared one
    are cheap. Client creation is serialised: sessions are not safe for concurrent use.
    An unknown profile raises botocore's ProfileNotFound.
    """
    with _session_lock:
        session = _sessions.get(profile)
        if session is None:
            core = botocore.session.get_session()
            core.get_component("response_parser_factory").set_parser_defaults(
                timestamp_parser=parse_timestamp
            )
            if profile is not None:
                core.set_config_variable("profile", profile)
            session = boto3.session.Session(botocore_session=core)
            session.get_credentials()  # an unknown profile fails here, not mid-run
            _sessions[profile] = session
        return session


def make_s3_client(
    *, region: str | None = None, endpoint_url: str | None = None, profile: str | None = None
) -> S3Client:
    """An S3 client with the retry policy and timestamp parser every request relies on."""
    session = shared_session(profile)
    with _session_lock:
        client: S3Client = session.client(
            "s3", region_name=region, endpoint_url=endpoint_url, config=RETRY_CONFIG
        )
    return client


def make_client(service: str, *, region: str | None = None, profile: str | None = None) -> Any:
    """A client for `service` with the retry policy every syncpurge request relies on."""
    session = shared_session(profile)
    with _session_lock:
        return session.client(  # type: ignore[call-overload]
            service, region_name=region, config=RETRY_CONFIG
        )
