"""What a request to S3 is to the test proxy (`tests.s3proxy`): a LIST page or another
request, and how long a far Region takes to answer each."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Latency:
    """A fixed wait before each request is handled: `list_seconds` for a LIST page
    (`request_kind`: ListObjectVersions, ListObjects), `other_seconds` for the rest."""

    list_seconds: float = 0.0
    other_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.list_seconds < 0 or self.other_seconds < 0:
            raise ValueError(f"latency can't be negative: {self}")


# ListObjects' (version 1) own parameters: a GET on a bucket with no other is a LIST page.
_LIST_OBJECTS_PARAMETERS = frozenset(
    ("prefix", "marker", "delimiter", "max-keys", "encoding-type", "optional-object-attributes")
)


def request_kind(method: str, path: str) -> str:
    """A request's kind: "list" for a LIST page, a GET on a bucket with no key that lists
    (ListObjectVersions `?versions`, ListObjectsV2 `?list-type=2`, or ListObjects: no query
    but its own parameters); "other" for the rest, a bucket's configuration read
    (`?versioning`, `?object-lock`, ...) too. Path-style, as everything the proxy relays."""
    split = urlsplit(path)
    bucket, _, key = split.path.lstrip("/").partition("/")
    if method != "GET" or not bucket or key:
        return "other"
    query = set(parse_qs(split.query, keep_blank_values=True))
    lists = "versions" in query or "list-type" in query or query <= _LIST_OBJECTS_PARAMETERS
    return "list" if lists else "other"
