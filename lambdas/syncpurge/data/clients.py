"""Data access: how the S3 and AWS clients are built (one session per process and
profile, the retry policy, the fast timestamp and listing parsers, the endpoint).
`s3store` and `aws` use them."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from syncpurge.data.listing_parser import ListingParserFactory

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# `standard` retries throttling (503 SlowDown) and transient 5xx with exponential backoff
# and jitter; 10 attempts rides out a burst of SlowDown on a hot prefix. A TCP connection to
# a live endpoint takes milliseconds: 5 s without one is a dead or filtered address (botocore
# waits 60 s by default), retried as any connection error.
CONNECT_TIMEOUT_SECONDS = 5
RETRY_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 10},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    max_pool_connections=32,
)
# Attempts at an endpoint that has never answered this client (a refused connection, an
# unknown host, no TCP answer): a wrong --endpoint-url or Region fails within about 3 s of
# backoff (15 s more when nothing answers TCP), not after ten attempts backed off over
# ~30 s. Once it has answered, the standard policy above, connection errors included.
UNREACHED_ATTEMPTS = 3


# The one form S3 (and AWS's other XML answers) write: ISO 8601 in UTC, 'Z', and
# milliseconds in listings. fromisoformat and botocore's dateutil read it alike.
_AWS_ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z", re.ASCII)


def parse_timestamp(value: str | float) -> datetime:
    """Every timestamp syncpurge's clients read, as an aware UTC datetime, cheaply.

    S3's own form ('2026-12-07T04:15:45.000Z', 1,000 to a listing page) takes ~0.5 us
    instead of dateutil's ~35 us (tests/benchmarks/bench_listing_cpu.py). Anything else
    (HTTP-date headers, epoch numbers from JSON APIs, offsets) goes to botocore's own
    parser and is then moved to UTC; the one difference from botocore: a time with no
    offset is read as UTC, not left naive.
    """
    parsed = iso_utc(value) if type(value) is str else None
    if parsed is None:  # botocore's stub says str; its JSON parser hands it numbers too
        parsed = _as_utc(botocore_parse_timestamp(value))  # type: ignore[arg-type]
    return parsed


def iso_utc(value: str) -> datetime | None:
    """`value` in S3's form, parsed; None for any other form."""
    if _AWS_ISO_UTC.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # out of range (month 13...): botocore words the error
        return None


def _as_utc(parsed: datetime) -> datetime:
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that would leave year 1..9999: same instant, as is
        return parsed


_session_lock = threading.Lock()
_sessions: dict[str | None, boto3.session.Session] = {}


def shared_session(profile: str | None = None) -> boto3.session.Session:
    """One boto3 session per process (and named profile), with the fast timestamp parser
    and the one-pass ListObjectVersions parser (`listing_parser`).

    Building a session loads botocore's service data (~100 ms); clients from a shared one
    are cheap. Client creation is serialised: sessions are not safe for concurrent use.
    An unknown profile raises botocore's ProfileNotFound.
    """
    with _session_lock:
        session = _sessions.get(profile)
        if session is None:
            core = botocore.session.get_session()
            # This session's clients parse with ListingParser (ListObjectVersions pages
            # read in one pass); other sessions and botocore's defaults are untouched.
            factory = ListingParserFactory()
            factory.set_parser_defaults(timestamp_parser=parse_timestamp)
            core.register_component("response_parser_factory", factory)
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
    client: S3Client = make_client("s3", region=region, endpoint_url=endpoint_url, profile=profile)
    return client


def make_client(
    service: str,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
) -> Any:
    """A client for `service` with the retry policy every syncpurge request relies on, at
    `endpoint_url` if given (LocalStack and moto serve every service on one)."""
    session = shared_session(profile)
    with _session_lock:
        client = session.client(  # type: ignore[call-overload]
            service, region_name=region, endpoint_url=endpoint_url, config=RETRY_CONFIG
        )
    event = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"needs-retry.{event}", _UnreachedEndpoint())
    if service == "s3":
        client.meta.events.register(f"before-parameter-build.{event}", _note_bucket)
        client.meta.events.register(f"after-call.{event}", _name_bucket_in_error)
    return client


def _note_bucket(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if params.get("Bucket"):
        context["syncpurge_bucket"] = params["Bucket"]


def _name_bucket_in_error(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Every S3 error names its bucket as NoSuchBucket's does (Error.BucketName): a 403 or
    a HeadBucket's bodiless 404 carries none, and the message shown must say which."""
    error, bucket = parsed.get("Error"), context.get("syncpurge_bucket")
    if isinstance(error, dict) and bucket:
        error.setdefault("BucketName", bucket)


class _UnreachedEndpoint:
    """A `needs-retry` handler that ends the retries of a connection error after
    UNREACHED_ATTEMPTS while the client's endpoint has never answered; it decides nothing
    otherwise (None: the standard handler after it does). It runs first and raises the
    error, as botocore does after its last attempt (older botocore reads any non-None answer,
    False included, as a delay to retry after)."""

    def __init__(self) -> None:
        self.answered = False

    def __call__(
        self, response: Any, attempts: int, caught_exception: Exception | None, **_: Any
    ) -> None:
        if response is not None:
            self.answered = True
        elif (
            isinstance(caught_exception, EndpointConnectionError)
            and not self.answered
            and attempts >= UNREACHED_ATTEMPTS
        ):
            raise caught_exception


def credential_files() -> tuple[str, str, str | None]:
    """(shared credentials file, config file, profile) as botocore resolves them from the
    environment: where a missing credential was looked for, for the CLI's one line."""
    session = botocore.session.Session()
    return (
        str(session.get_config_variable("credentials_file")),
        str(session.get_config_variable("config_file")),
        session.get_config_variable("profile"),
    )
