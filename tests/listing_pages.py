"""ListObjectVersions answers as S3 writes them (XML, `EncodingType=url` or raw keys,
optional elements, namespaced or not, compact or indented), and a way to serve them to a
real botocore client with no network: the listing benchmark and the timestamp and listing
parser tests parse the same bytes through botocore's whole response path."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse
from moto.core.botocore_stubber import MockRawResponse

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
OWNER = "<Owner><DisplayName>ops</DisplayName><ID>" + "7" * 64 + "</ID></Owner>"
ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._"


@dataclass(frozen=True)
class Row:
    """One <Version> or <DeleteMarker> of a page."""

    key: str
    version_id: str
    is_latest: bool
    last_modified: str  # as S3 writes it
    marker: bool = False
    size: int = 0
    etag: str = ""
    # Elements S3 writes only for some versions (None / empty: left out).
    owner: bool = True
    storage_class: str = "STANDARD"
    checksum_algorithms: tuple[str, ...] = ()
    checksum_type: str | None = None
    restore: tuple[bool, str | None] | None = None  # IsRestoreInProgress, RestoreExpiryDate


def s3_time(at: datetime) -> str:
    """LastModified as S3 lists it: '2026-12-07T04:15:45.000Z'."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def realistic_rows(entries: int = 1000, seed: int = 0) -> list[Row]:
    """`entries` rows in S3's order: keys ascending (some with spaces, '+', '%', non-ASCII),
    each key's history newest first; about one key in five ends in a delete marker."""
    rng = random.Random(seed)
    rows: list[Row] = []
    for n in range(entries):
        key = _key(rng, n)
        at = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(90_000_000))
        rows.extend(_history(rng, key, at))
        if len(rows) >= entries:
            return rows[:entries]
    return rows


def _key(rng: random.Random, n: int) -> str:
    odd = rng.choice(["", " copy", "+v2", " 100%", "-\u00e9t\u00e9", "/\u65e5\u672c"])
    return f"warehouse/table={n // 250:03d}/part-{n:06d}{odd}.parquet"


def _history(rng: random.Random, key: str, newest: datetime) -> Iterator[Row]:
    versions = rng.choice([1, 1, 1, 2, 2, 3, 5])
    marker = rng.random() < 0.2
    at = newest
    if marker:
        yield Row(key, _version_id(rng), True, s3_time(at), marker=True)
    for i in range(versions):
        at -= timedelta(seconds=rng.randrange(1, 3_000_000))
        etag = f'"{rng.getrandbits(128):032x}' + ('-12"' if rng.random() < 0.3 else '"')
        latest = i == 0 and not marker
        yield Row(key, _version_id(rng), latest, s3_time(at), False, rng.randrange(10**9), etag)


def _version_id(rng: random.Random) -> str:
    return "".join(rng.choice(ID_CHARS) for _ in range(32))


@dataclass(frozen=True)
class PageForm:
    """How an answer is written, beyond its rows (the defaults: S3's own form, as
    syncpurge's requests get it)."""

    encoded: bool = True  # EncodingType=url: keys, markers and prefixes URL-encoded
    namespace: bool = True  # the root names S3's XML namespace
    indent: bool = False  # elements on their own lines, as moto and LocalStack write them
    key_marker: str = ""
    version_id_marker: str = ""
    next_version_id: str | None = "null"  # when truncated; None: left out
    delimiter: str | None = None
    common_prefixes: tuple[str, ...] = ()
    max_keys: int = 1000


def list_versions_xml(
    rows: Iterable[Row],
    *,
    truncated: bool = False,
    next_key: str | None = "",
    prefix: str = "",
    form: PageForm = PageForm(),
) -> bytes:
    """A ListVersionsResult answering a request with MaxKeys=1000 (EncodingType=url unless
    `form` says otherwise); a truncated one names `next_key` unless it is None."""
    text = _url if form.encoded else escape
    xmlns = f' xmlns="{NAMESPACE}"' if form.namespace else ""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult{xmlns}>'
        f"<Name>bucket</Name><Prefix>{text(prefix)}</Prefix>"
        f"<KeyMarker>{text(form.key_marker)}</KeyMarker>"
        f"<VersionIdMarker>{form.version_id_marker}</VersionIdMarker>"
    )
    if truncated and next_key is not None:
        head += f"<NextKeyMarker>{text(next_key)}</NextKeyMarker>"
    if truncated and form.next_version_id is not None:
        head += f"<NextVersionIdMarker>{form.next_version_id}</NextVersionIdMarker>"
    head += f"<MaxKeys>{form.max_keys}</MaxKeys>"
    if form.delimiter is not None:
        head += f"<Delimiter>{text(form.delimiter)}</Delimiter>"
    if form.encoded:
        head += "<EncodingType>url</EncodingType>"
    head += f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
    body = "".join(_row_xml(row, text) for row in rows)
    body += "".join(
        f"<CommonPrefixes><Prefix>{text(p)}</Prefix></CommonPrefixes>" for p in form.common_prefixes
    )
    page = head + body + "</ListVersionsResult>"
    if form.indent:
        page = page.replace("><", ">\n  <")
    return page.encode()


def _row_xml(row: Row, text: Callable[[str], str] = escape) -> str:
    owner = OWNER if row.owner else ""
    common = (
        f"<Key>{text(row.key)}</Key><VersionId>{row.version_id}</VersionId>"
        f"<IsLatest>{'true' if row.is_latest else 'false'}</IsLatest>"
        f"<LastModified>{escape(row.last_modified)}</LastModified>"
    )
    if row.marker:
        return f"<DeleteMarker>{owner}{common}</DeleteMarker>"
    checksums = "".join(
        f"<ChecksumAlgorithm>{a}</ChecksumAlgorithm>" for a in row.checksum_algorithms
    )
    if row.checksum_type is not None:
        checksums += f"<ChecksumType>{row.checksum_type}</ChecksumType>"
    restore = ""
    if row.restore is not None:
        restore = f"<IsRestoreInProgress>{str(row.restore[0]).lower()}</IsRestoreInProgress>"
        if row.restore[1] is not None:
            restore += f"<RestoreExpiryDate>{row.restore[1]}</RestoreExpiryDate>"
        restore = f"<RestoreStatus>{restore}</RestoreStatus>"
    return (
        f"<Version>{common}<ETag>{escape(row.etag, {chr(34): '&quot;'})}</ETag>"
        f"{checksums}<Size>{row.size}</Size>{owner}"
        f"<StorageClass>{row.storage_class}</StorageClass>{restore}</Version>"
    )


def _url(text: str) -> str:
    return quote_plus(text, safe="/")


def serve_listings(
    client: Any, bodies: Callable[[], bytes], operation: str = "ListObjectVersions"
) -> None:
    """Answer every `operation` call `client` sends with the next of `bodies()`, before
    any byte leaves the process: the rest of botocore's response path runs as usual."""

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {}, MockRawResponse(bodies()))

    client.meta.events.register_first(f"before-send.s3.{operation}", answer)
