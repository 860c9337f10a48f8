"""What S3's answers are read into: listing pages, HeadObject facts, DeleteObjects
results, and the tally of requests sent. No I/O here; `syncpurge.data.s3store` does the calls."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from syncpurge.models import Entry, PageMarker
from syncpurge.summary import RequestCounts

# Characters XML 1.0 can't carry (https://www.w3.org/TR/xml/#charsets): a DeleteObjects
# body naming such a key is rejected whole with MalformedXML, and a listing answer holding
# one unencoded can't be parsed.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class RequestCounter:
    """Thread-safe tally of the S3 requests a run sends, by kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {"list": 0, "delete": 0, "verify": 0, "head": 0}

    def add(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self._counts[kind] += n

    def snapshot(self) -> RequestCounts:
        with self._lock:
            return RequestCounts(**self._counts)


@dataclass(slots=True)
class ListingPage:
    entries: list[Entry]
    common_prefixes: list[str]
    is_truncated: bool
    # The marker this page was requested with (None: the first page).
    marker: PageMarker | None = None
    # The page's own NextKeyMarker / NextVersionIdMarker, when it is truncated.
    next_marker: PageMarker | None = None
    # S3's x-amz-request-id of the answer (a receipt cites the listing that proves a key gone).
    request_id: str | None = None


@dataclass(slots=True, frozen=True)
class ObjectFacts:
    """What HeadObject says of one version (docs/design.md §3.3's HEAD-based tiers)."""

    etag: str | None
    size: int | None
    # x-amz-server-side-encryption: AES256, aws:kms, aws:kms:dsse; None: not KMS-encrypted.
    server_side_encryption: str | None
    customer_key: bool  # SSE-C: the ETag is not an MD5 of the content
    checksums: dict[str, str]  # algorithm (CRC64NVME, CRC32, SHA256...) -> value
    checksum_type: str | None  # FULL_OBJECT | COMPOSITE
    replication_status: str | None  # REPLICA, COMPLETED, PENDING, FAILED


CHECKSUM_FIELDS = ("CRC64NVME", "CRC32", "CRC32C", "SHA1", "SHA256")


@dataclass(slots=True)
class DeleteError:
    key: str
    version_id: str
    code: str
    message: str


@dataclass(slots=True)
class DeleteResult:
    deleted: set[tuple[str, str]] = field(default_factory=set)
    errors: list[DeleteError] = field(default_factory=list)


def page_entries(page: Any) -> list[Entry]:
    """Versions and delete markers of one ListObjectVersions page, in S3's key order.

    Keys are used exactly as botocore hands them over: botocore already URL-decodes the
    `EncodingType=url` listing it asks for, so decoding here again would corrupt `%` keys.
    """
    versions = page.get("Versions") or ()
    markers = page.get("DeleteMarkers") or ()
    entries = [
        Entry(
            v["Key"],
            v["VersionId"],
            v["IsLatest"],
            v["LastModified"],
            False,
            v["Size"],
            v.get("ETag"),
        )
        for v in versions
    ]
    if markers:
        entries.extend(
            Entry(m["Key"], m["VersionId"], m["IsLatest"], m["LastModified"], True) for m in markers
        )
        if versions:
            # Both arrays are key-ordered; a stable sort by key interleaves them again
            # (Python's code-point order is UTF-8 byte order, which is S3's order).
            entries.sort(key=_entry_key)
    return entries


def _entry_key(entry: Entry) -> str:
    return entry.key
