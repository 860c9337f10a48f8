"""The timestamp parser syncpurge's clients read with, against botocore's own: alone on
any form botocore reads, on whole listing pages through the real client and S3Store, and
on the other answers syncpurge reads a time from (HeadObject headers, JSON and query APIs).

Pages are answered before anything leaves the process (`tests.listing_pages`); the rest of
botocore's path (signing, parsing, URL decoding, paging) runs for real on both clients."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.utils import parse_timestamp as botocore_parse
from hypothesis import example, given
from hypothesis import strategies as st
from moto.core.botocore_stubber import MockRawResponse

from syncpurge.data.clients import iso_utc, make_client, make_s3_client, parse_timestamp
from syncpurge.data.s3store import S3Store
from tests.listing_pages import Row, list_versions_xml, realistic_rows, serve_listings

pytestmark = pytest.mark.unit

REGION = "us-east-1"
WHEN = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def s3_form(draw: st.DrawFn) -> str:
    """ISO 8601 in UTC as S3 writes it, with 0 to 9 digits of fractional seconds."""
    at = draw(WHEN)
    fraction = draw(st.integers(0, 9).flatmap(digits))
    return f"{at.year:04d}-{at:%m-%dT%H:%M:%S}" + (f".{fraction}" if fraction else "") + "Z"


@st.composite
def any_form(draw: st.DrawFn) -> str | float:
    """Forms botocore's parser reads, or refuses: ISO variants, epoch, RFC 822, garbage."""
    at = draw(WHEN)
    kind = draw(st.sampled_from(["iso", "iso", "iso", "epoch", "number", "http", "noise"]))
    if kind == "epoch":
        return draw(st.sampled_from(["%d", "%.3f", "%08d"])) % draw(st.integers(0, 4 * 10**9))
    if kind == "number":
        return draw(st.floats(0, 4e9) | st.integers(0, 4 * 10**9))
    if kind == "http":
        return email.utils.format_datetime(at.replace(tzinfo=UTC), usegmt=True)
    if kind == "noise":
        return draw(st.text(alphabet="0123456789-:TZ. +", max_size=26))
    date = draw(st.sampled_from(["%Y-%m-%d", "%Y%m%d", "%Y-W%W-%w"]))
    sep = draw(st.sampled_from(["T", " ", "t", "x", ""]))
    clock = draw(st.sampled_from(["%H:%M:%S", "%H:%M", "%H%M%S", "%H", ""]))
    fraction = draw(st.sampled_from(["", ".", ","])) + draw(st.integers(0, 9).flatmap(digits))
    zone = draw(st.sampled_from(["Z", "z", "", "+00:00", "+02:00", "-0130", " GMT", " UTC"]))
    text = at.strftime(f"{date}{sep}{clock}").replace(at.strftime("%Y"), f"{at.year:04d}", 1)
    return text + fraction + zone


def botocore_reads(value: str | float) -> datetime | Exception:
    try:
        parsed = botocore_parse(value)
        parsed.utcoffset()  # dateutil can make offsets of 24 h, that no datetime can use
    except Exception as err:  # ValueError; RuntimeError where dateutil overflows
        return err
    return parsed


def assert_utc(parsed: datetime) -> None:
    assert parsed.tzinfo is UTC, parsed


# --------------------------------------------------------------------------- the parser


@given(s3_form())
@example("2026-12-07T04:15:45.000Z")
@example("2026-12-07T04:15:45.9999995Z")  # both truncate to microseconds
@example("0050-01-02T03:04:05Z")
def test_s3s_form_takes_the_fast_path_and_reads_as_botocore_does(text: str) -> None:
    fast = iso_utc(text)
    assert fast is not None, text
    assert fast == botocore_parse(text)
    assert_utc(fast)
    assert parse_timestamp(text) == fast


@given(any_form())
@example("20261207")  # an epoch to botocore, not a date
@example("2026-W49-1T04:15:45Z")  # refused by botocore, so here too
@example("2026-12-07x04:15:45Z")
@example("2000-01-01T00:00:03000000000Z")  # RuntimeError from botocore
@example("0:0-24")  # an offset of -24 h: a datetime that raises when compared
@example("2026-13-07T04:15:45Z")
@example("\u0662\u0660\u0662\u0666-12-07T04:15:45Z")  # Arabic-Indic digits
def test_every_form_reads_as_botocore_reads_it_in_utc(value: str | float) -> None:
    expected = botocore_reads(value)
    if isinstance(expected, Exception):
        with pytest.raises(type(expected)):
            parse_timestamp(value)
        return
    parsed = parse_timestamp(value)
    assert_utc(parsed)
    assert parsed == (expected if expected.tzinfo else expected.replace(tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-12-12T07:37:29+02:00", datetime(2024, 12, 12, 5, 37, 29, tzinfo=UTC)),
        ("2024-12-12T07:37:29", datetime(2024, 12, 12, 7, 37, 29, tzinfo=UTC)),  # naive: UTC
        ("2024-12-12T07:37:29.5z", datetime(2024, 12, 12, 7, 37, 29, 500000, tzinfo=UTC)),
        ("Thu, 12 Dec 2024 07:37:29 GMT", datetime(2024, 12, 12, 7, 37, 29, tzinfo=UTC)),
        ("20261207", datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=20261207)),
    ],
)
def test_other_forms_are_moved_to_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert_utc(parsed)


# --------------------------------------------------------------------------- whole pages


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests are signed, never sent: made-up keys, no profile."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def stock_client(service: str) -> Any:
    """A client as botocore comes: its own session, its own (dateutil) timestamp parser."""
    session = boto3.session.Session(botocore_session=botocore.session.get_session())
    return session.client(service, region_name=REGION)  # type: ignore[call-overload]


def odd_times(rows: list[Row]) -> Iterator[Row]:
    """The rows with LastModified in every aware form S3-compatible stores write."""
    forms = ["{}.000Z", "{}Z", "{}.1Z", "{}.123456Z", "{}.1234567Z", "{}.000+00:00", "{}.5z"]
    for n, row in enumerate(rows):
        at = row.last_modified[:19]
        yield Row(**{**row.__dict__, "last_modified": forms[n % len(forms)].format(at)})


def listed(client: Any, body: bytes) -> list[Any]:
    serve_listings(client, lambda: body)
    return [e for page in S3Store(client).list_pages("bucket", "") for e in page.entries]


@pytest.mark.usefixtures("fake_credentials")
@pytest.mark.parametrize("realistic", [True, False])
def test_a_listed_page_has_botocores_entries_with_utc_times(realistic: bool) -> None:
    rows = realistic_rows(1000, seed=7)
    body = list_versions_xml(rows if realistic else odd_times(rows))
    stock = listed(stock_client("s3"), body)
    ours = listed(make_s3_client(region=REGION), body)
    assert len(ours) == 1000
    assert ours == stock  # key, version, IsLatest, LastModified, marker, size, ETag
    for entry in ours:
        assert_utc(entry.last_modified)
    # botocore's own clients keep botocore's parser: the default is per session.
    assert all(entry.last_modified.tzinfo is not UTC for entry in stock)


# --------------------------------------------------------------------------- other answers


def answer_with(client: Any, event: str, body: bytes, headers: dict[str, str]) -> None:
    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, headers, MockRawResponse(body))

    client.meta.events.register_first(f"before-send.{event}", answer)


HEAD_HEADERS = {
    "Last-Modified": "Mon, 07 Dec 2026 04:15:45 GMT",
    "x-amz-object-lock-retain-until-date": "2027-12-07T04:15:45.123Z",
    "x-amz-object-lock-mode": "GOVERNANCE",
    "Content-Length": "3",
}


def head(client: Any) -> dict[str, Any]:
    answer_with(client, "s3.HeadObject", b"", HEAD_HEADERS)
    return dict(client.head_object(Bucket="bucket", Key="k", VersionId="v"))


@pytest.mark.usefixtures("fake_credentials")
def test_head_object_times_are_botocores_datetimes() -> None:
    ours, stock = head(make_s3_client(region=REGION)), head(stock_client("s3"))
    for field in ("LastModified", "ObjectLockRetainUntilDate"):
        assert isinstance(ours[field], datetime)
        assert ours[field] == stock[field]
        assert_utc(ours[field])


def describe(client: Any) -> datetime:
    body = {"executionArn": "arn:x", "stateMachineArn": "arn:y", "status": "RUNNING"}
    body["startDate"] = 1796616945.123  # type: ignore[assignment]
    answer_with(client, "sfn.DescribeExecution", json.dumps(body).encode(), {})
    started: datetime = client.describe_execution(executionArn="arn:x")["startDate"]
    return started


def stack_created(client: Any) -> datetime:
    body = (
        '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
        "<DescribeStacksResult><Stacks><member><StackName>s</StackName>"
        "<CreationTime>2026-12-07T04:15:45.517Z</CreationTime>"
        "<StackStatus>CREATE_COMPLETE</StackStatus></member></Stacks>"
        "</DescribeStacksResult></DescribeStacksResponse>"
    )
    answer_with(client, "cloudformation.DescribeStacks", body.encode(), {})
    created: datetime = client.describe_stacks(StackName="s")["Stacks"][0]["CreationTime"]
    return created


@pytest.mark.usefixtures("fake_credentials")
def test_json_and_query_api_times_are_botocores_datetimes() -> None:
    sfn = describe(make_client("stepfunctions", region=REGION))
    assert sfn == describe(stock_client("stepfunctions"))
    stack = stack_created(make_client("cloudformation", region=REGION))
    assert stack == stack_created(stock_client("cloudformation"))
    for parsed in (sfn, stack):
        assert_utc(parsed)
