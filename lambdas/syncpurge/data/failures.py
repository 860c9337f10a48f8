"""A listing that failed after botocore's retries, as the rest of the run sees it: a
ListingFailed naming the request and the error, so a caller can keep the key(s) it was for
and go on (docs/design.md §5: a key the store can't list or verify is reported, never purged)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from syncpurge.errors import ListingFailed


def listing_call(bucket: str, params: dict[str, Any]) -> str:
    """A ListObjectVersions request as a report line names it."""
    named = " ".join(
        f"{name}={params[name]!r}"
        for name in ("Prefix", "KeyMarker", "VersionIdMarker")
        if params.get(name) is not None
    )
    return f"ListObjectVersions of {bucket!r} {named}".rstrip()


def listing_failed(call: str, err: ClientError | BotoCoreError) -> ListingFailed:
    """The failure of a listing, after botocore's retries.

    A store's 200 answer that is not well-formed XML (a key XML 1.0 can't carry, in a field
    the store did not URL-encode) arrives here as botocore makes it: a 500, retried to
    exhaustion."""
    if isinstance(err, BotoCoreError):
        return ListingFailed(call, type(err).__name__, str(err))
    error = err.response.get("Error", {})
    status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = str(error.get("Code") or status or "Unknown")
    return ListingFailed(call, code, str(error.get("Message") or err))


def failing_as_listing(bucket: str, params: dict[str, Any], pages: Iterable[Any]) -> Iterator[Any]:
    """A paginator's pages; ListingFailed, naming the request of the page that failed."""
    call = dict(params)
    try:
        for page in pages:
            yield page
            call["KeyMarker"] = page.get("NextKeyMarker")
            call["VersionIdMarker"] = page.get("NextVersionIdMarker")
    except (ClientError, BotoCoreError) as err:
        raise listing_failed(listing_call(bucket, call), err) from err
