"""ListingParser, the one-pass ListObjectVersions reader of syncpurge's S3 clients, against
botocore's own RestXMLParser with the same timestamp parser: on random pages, through two
real clients' whole response path (signing, the error-in-200 check, parsing, URL decoding),
what the caller gets is the same dict, keys in the same order; and the fast path is what
read it. Other operations, and answers the fast path doesn't know, are botocore's.

Answers are served before anything leaves the process (`tests.listing_pages`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
from botocore.parsers import RestXMLParser
from hypothesis import example, given
from hypothesis import strategies as st

from syncpurge.data.clients import make_s3_client, parse_timestamp
from syncpurge.data.listing_parser import ListingParser, ListingParserFactory
from syncpurge.data.s3shapes import XML_INVALID
from syncpurge.data.s3store import S3Store
from tests.listing_pages import PageForm, Row, list_versions_xml, s3_time, serve_listings

pytestmark = pytest.mark.unit

REGION = "us-east-1"
ODD_KEYS = ["a b", "c+d", "100%", "%2F", "é/日本", "a&b", "<x>", "q\"'", " lead", "tab\t"]


def stock_client() -> Any:
    """A client parsing with botocore's RestXMLParser(timestamp_parser=parse_timestamp)."""
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(
        timestamp_parser=parse_timestamp
    )
    session = boto3.session.Session(botocore_session=core)
    return session.client(
        "s3", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s"
    )


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")


@contextmanager
def paths_taken() -> Iterator[dict[str, int]]:
    """How many ListObjectVersions answers ListingParser began to read itself ('fast') and
    handed to botocore ('stock') while the block ran."""
    taken = {"fast": 0, "stock": 0}
    read, stock = ListingParser._read, ListingParser._stock_payload

    def counted_read(self: ListingParser, node: Any, plan: Any) -> dict[str, Any]:
        if node.tag.endswith("ListVersionsResult"):  # the answer, not one of its entries
            taken["fast"] += 1
        return read(self, node, plan)

    def counted_stock(self: ListingParser, *args: Any) -> None:
        if args[1].name == "ListObjectVersionsOutput":
            taken["stock"] += 1
        stock(self, *args)

    with (
        mock.patch.object(ListingParser, "_read", counted_read),
        mock.patch.object(ListingParser, "_stock_payload", counted_stock),
    ):
        yield taken


_served: dict[str, bytes] = {}


@functools.cache
def client_pair() -> tuple[Any, Any]:
    """`make_s3_client`'s client and a stock one, both answered with `_served["body"]`
    (built once: a botocore session loads its models in ~100 ms)."""
    pair = (make_s3_client(region=REGION), stock_client())
    for client in pair:
        serve_listings(client, lambda: _served["body"])
    return pair


def both_read(body: bytes, **params: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """`body` as ListObjectVersions' answer to `make_s3_client`'s client and to a stock one."""
    _served["body"] = body
    fast, stock = (c.list_object_versions(Bucket="bucket", **params) for c in client_pair())
    return fast, stock


def assert_same(fast: Any, stock: Any) -> None:
    """Equal, and every dict's keys in the same order."""
    assert fast == stock
    assert _key_order(fast) == _key_order(stock)


def _key_order(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, _key_order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_key_order(v) for v in value]
    return None


# --------------------------------------------------------------------------- random pages

KEY_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(
    lambda k: XML_INVALID.search(k) is None and "\r" not in k
)
KEYS = st.sampled_from(ODD_KEYS) | KEY_TEXT
TIMES = st.integers(0, 10**9).map(lambda s: datetime(2020, 1, 1, tzinfo=UTC) + timedelta(0, s))
STAMP = TIMES.map(s3_time) | TIMES.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+00:00"))


@st.composite
def rows(draw: st.DrawFn) -> Row:
    marker = draw(st.booleans())
    return Row(
        key=draw(KEYS),
        version_id=draw(st.sampled_from(["null", "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"])),
        is_latest=draw(st.booleans()),
        last_modified=draw(STAMP),
        marker=marker,
        size=draw(st.integers(0, 5 * 2**40)),
        etag=draw(st.sampled_from(['"9b2cf535f27731c974343645a3985328"', '"0a-12"', ""])),
        owner=draw(st.booleans()),
        storage_class=draw(st.sampled_from(["STANDARD", "GLACIER", "INTELLIGENT_TIERING"])),
        checksum_algorithms=tuple(draw(st.lists(st.sampled_from(["CRC32", "SHA256"]), max_size=2))),
        checksum_type=draw(st.none() | st.just("FULL_OBJECT")),
        restore=draw(st.none() | st.tuples(st.booleans(), st.none() | STAMP)),
    )


@st.composite
def pages(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A page's bytes, and the request parameters it answers."""
    page_rows = draw(st.lists(rows(), max_size=12))
    delimiter = draw(st.none() | st.sampled_from(["/", "+", "&"]))
    form = PageForm(
        encoded=draw(st.booleans()),
        namespace=draw(st.booleans()),
        indent=draw(st.booleans()),
        key_marker=draw(st.just("") | KEYS),
        version_id_marker=draw(st.sampled_from(["", "null"])),
        next_version_id=draw(st.none() | st.just("null")),
        delimiter=delimiter,
        common_prefixes=tuple(draw(st.lists(KEYS, max_size=3))) if delimiter else (),
        max_keys=draw(st.sampled_from([0, 1, 1000])),
    )
    body = list_versions_xml(
        page_rows,
        truncated=draw(st.booleans()),
        next_key=draw(st.none() | KEYS),
        prefix=draw(st.just("") | KEYS),
        form=form,
    )
    # Asked with EncodingType=url, botocore decodes none of the keys: they stay as written.
    params = {} if draw(st.booleans()) else {"EncodingType": "url"}
    return body, params


@given(pages())
@example((list_versions_xml([]), {}))
@example((list_versions_xml([], form=PageForm(encoded=False, namespace=False)), {}))
def test_a_page_reads_as_botocores_parser_reads_it(page: tuple[bytes, dict[str, Any]]) -> None:
    body, params = page
    with paths_taken() as taken:
        fast, stock = both_read(body, **params)
    assert_same(fast, stock)
    assert taken == {"fast": 1, "stock": 0}


def test_a_realistic_page_reads_alike_and_is_read_by_the_fast_path() -> None:
    moment = s3_time(datetime(2026, 12, 7, 4, 15, 45, tzinfo=UTC))
    page_rows = [
        Row(key, f"v{n}", n % 2 == 0, moment, marker=n % 3 == 0, size=n, etag=f'"{n}"')
        for n, key in enumerate(sorted(ODD_KEYS))
    ]
    body = list_versions_xml(page_rows, truncated=True, next_key="n/é+")
    with paths_taken() as taken:
        fast, stock = both_read(body)
    assert_same(fast, stock)
    assert taken == {"fast": 1, "stock": 0}
    assert [v["Key"] for v in fast["Versions"]] == [r.key for r in page_rows if not r.marker]
    assert fast["NextKeyMarker"] == "n/é+"  # URL-decoded after parsing, by botocore


ONE_ROW = list_versions_xml(
    [Row("k", "v", True, "2026-12-07T04:15:45.000Z", size=7, etag='"e"')], truncated=True
)


@pytest.mark.parametrize(
    ("written", "rewritten"),
    [
        (b"<IsLatest>true</IsLatest>", b"<IsLatest/>"),  # empty: False, as botocore reads it
        (b"<IsLatest>true</IsLatest>", b"<IsLatest>True</IsLatest>"),  # only 'true' is True
        (b"<IsTruncated>true</IsTruncated>", b"<IsTruncated> true</IsTruncated>"),
        (b"<Size>7</Size>", b"<Size> 7\n</Size>"),  # int() takes the spaces
        (b"<Key>k</Key>", b"<Key/>"),  # an empty element: ''
        (b"<Key>k</Key>", b"<Key><![CDATA[a&<b>]]>&#x41;&amp;</Key>"),
        (b"<Key>k</Key>", b"<Key>a<!-- said -->b</Key>"),
        (b"<Key>k</Key>", b"<Key>a<b>c</b>d</Key>"),  # a scalar's own text, before the child
        (b"<Owner>", b"<s3:Owner xmlns:s3='urn:other'>"),  # any namespace is stripped
    ],
)
def test_odd_texts_read_as_botocore_reads_them(written: bytes, rewritten: bytes) -> None:
    body = ONE_ROW.replace(written, rewritten, 1)
    if rewritten.startswith(b"<s3:Owner"):
        body = body.replace(b"</Owner>", b"</s3:Owner>", 1)
    assert body != ONE_ROW
    with paths_taken() as taken:
        fast, stock = both_read(body)
    assert_same(fast, stock)
    assert taken == {"fast": 1, "stock": 0}


# --------------------------------------------------------------------------- the wiring


def test_make_s3_clients_parse_listings_with_the_listing_parser() -> None:
    client = make_s3_client(region=REGION)
    body = list_versions_xml([Row("k", "v", True, "2026-12-07T04:15:45.000Z")])
    serve_listings(client, lambda: body)
    with paths_taken() as taken:
        pages = list(S3Store(client).list_pages("bucket", ""))
    assert taken == {"fast": 1, "stock": 0}
    assert [e.key for e in pages[0].entries] == ["k"]


def test_the_factory_makes_listing_parsers_for_rest_xml_and_stock_ones_otherwise() -> None:
    factory = ListingParserFactory()
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)
    parser = factory.create_parser("rest-xml")
    assert type(parser) is ListingParser
    assert parser._timestamp_parser is parse_timestamp  # the defaults reach it
    assert type(factory.create_parser("json")).__name__ == "JSONParser"


def test_botocores_own_sessions_keep_botocores_parser() -> None:
    make_s3_client(region=REGION)  # builds syncpurge's shared session
    factory = botocore.session.get_session().get_component("response_parser_factory")
    assert type(factory.create_parser("rest-xml")) is RestXMLParser


VERSIONING = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration '
    b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status>'
    b"<MfaDelete>Disabled</MfaDelete></VersioningConfiguration>"
)
LIST_V2 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
    b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix></Prefix>'
    b"<KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
    b"<Contents><Key>a%20b</Key><LastModified>2026-12-07T04:15:45.000Z</LastModified>"
    b"<ETag>&quot;x&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass>"
    b"</Contents><EncodingType>url</EncodingType></ListBucketResult>"
)


@pytest.mark.parametrize(
    ("operation", "call", "body"),
    [
        ("GetBucketVersioning", lambda c: c.get_bucket_versioning(Bucket="b"), VERSIONING),
        ("ListObjectsV2", lambda c: c.list_objects_v2(Bucket="b"), LIST_V2),
    ],
)
def test_other_operations_are_parsed_by_botocore(
    operation: str, call: Callable[[Any], dict[str, Any]], body: bytes
) -> None:
    answers = []
    with mock.patch.object(ListingParser, "_read", side_effect=AssertionError("fast path")):
        for client in (make_s3_client(region=REGION), stock_client()):
            serve_listings(client, lambda: body, operation)
            answers.append(call(client))
    assert_same(answers[0], answers[1])


# --------------------------------------------------------------------------- falling back


def test_an_element_the_model_does_not_name_sends_the_page_to_botocore() -> None:
    row = Row("k", "v", True, "2026-12-07T04:15:45.000Z", etag='"e"')
    body = list_versions_xml([row]).replace(b"<Size>", b"<Unheard>1</Unheard><Size>")
    with paths_taken() as taken:
        fast, stock = both_read(body)
    assert_same(fast, stock)
    assert taken == {"fast": 1, "stock": 1}  # tried, then handed over


def test_a_value_botocore_refuses_fails_as_botocore_fails() -> None:
    row = Row("k", "v", True, "2026-12-07T04:15:45.000Z", size=1)
    body = list_versions_xml([row]).replace(b"<Size>1</Size>", b"<Size>one</Size>")
    errors = []
    for client in (make_s3_client(region=REGION), stock_client()):
        serve_listings(client, lambda: body)
        with pytest.raises(ValueError, match="invalid literal for int") as caught:
            client.list_object_versions(Bucket="bucket")
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_a_scalar_written_twice_is_botocores_to_read() -> None:
    row = Row("k", "v", True, "2026-12-07T04:15:45.000Z")
    body = list_versions_xml([row]).replace(b"<Name>bucket</Name>", b"<Name>a</Name>" * 2)
    client = make_s3_client(region=REGION)
    serve_listings(client, lambda: body)
    with paths_taken() as taken:
        client.list_object_versions(Bucket="bucket")
    assert taken == {"fast": 1, "stock": 1}
