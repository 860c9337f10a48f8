"""moto's ListObjectVersions, made to page like S3 (and fast enough for a million keys).

Two differences from moto 5's own listing matter to syncpurge:

- **KeyMarker without VersionIdMarker.** S3 starts after the whole key: "KeyMarker —
  Specifies the key to start with when listing objects in a bucket", and a listing that
  starts there returns only keys that sort after it (ListObjectVersions, Amazon S3 API
  Reference; LocalStack answers the same, checked by
  tests/conformance/test_s3_paging.py). moto skips keys before the marker and then one
  more version, which loses the first version of the next key when the marker names no
  key. Key-range work items start every listing at such a marker.
- **Cost.** moto deep-copies every version of the bucket for each page (seconds per page
  at 50,000 entries); this listing walks a sorted index of key names from the marker, and
  its response is rendered straight to XML.

Versions are listed newest first in the order moto stores them (its current version is
the last one stored). `install_s3_paging()` swaps the method in for the process;
`s3_paging()` does it for a `with` block.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock
from xml.sax.saxutils import escape

_INDEX = "_syncpurge_index"


def _names(store: Any) -> list[str]:
    """The store's key names in order: built once, then kept in step by the patched
    methods that add or remove a name."""
    names: list[str] | None = getattr(store, _INDEX, None)
    if names is None:
        names = sorted(store.keys())
        setattr(store, _INDEX, names)
    return names


def list_object_versions(  # noqa: PLR0917 - moto's own signature, called positionally
    self: Any,
    bucket_name: str,
    delimiter: str | None = None,
    key_marker: str | None = None,
    max_keys: int | None = 1000,
    prefix: str = "",
    version_id_marker: str | None = None,
) -> tuple[list[Any], list[str], list[Any], str | None, str | None]:
    from moto.s3.models import FakeKey

    bucket = self.get_bucket(bucket_name)
    prefix = prefix or ""
    limit = 1000 if max_keys is None else max_keys
    versions: list[Any] = []
    markers: list[Any] = []
    prefixes: list[str] = []
    names = _names(bucket.keys)
    start = max(prefix, key_marker or "")
    position = bisect.bisect_left(names, start)
    returned = 0
    last: tuple[str, str | None] | None = None
    for name in names[position:]:
        if not name.startswith(prefix):
            if name > prefix:
                break
            continue
        if delimiter and delimiter in name[len(prefix) :]:
            rolled = name[: name.index(delimiter, len(prefix)) + len(delimiter)]
            if (key_marker is not None and rolled <= key_marker) or (
                prefixes and prefixes[-1] == rolled
            ):
                continue
            if returned >= limit:
                return versions, prefixes, markers, last[0] if last else None, None
            prefixes.append(rolled)
            returned += 1
            last = (rolled, None)
            continue
        history = list(reversed(bucket.keys.getlist(name, [])))
        if key_marker is not None and name <= key_marker:
            if name < key_marker or not version_id_marker:
                continue
            ids = [v.version_id for v in history]
            if version_id_marker not in ids:
                continue
            history = history[ids.index(version_id_marker) + 1 :]
            latest = False
        else:
            latest = True
        for version in history:
            if returned >= limit:
                assert last is not None
                return versions, prefixes, markers, last[0], last[1]
            version.is_latest = latest
            latest = False
            (versions if isinstance(version, FakeKey) else markers).append(version)
            returned += 1
            last = (name, version.version_id)
    return versions, prefixes, markers, None, None


_OWNER = (
    "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
    "<DisplayName>webfile</DisplayName></Owner>"
)


def _text(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def list_object_versions_response(self: Any) -> tuple[int, dict[str, str], str]:
    """moto's ListObjectVersions response, rendered straight to XML.

    moto's generic model-driven serializer spends ~0.5 s on a 1,000-entry page, more than
    everything else the local runtime does for it; the document is the same (the fields
    moto sets, in the order of the S3 API Reference's ListVersionsResult).
    """
    query = self.querystring
    delimiter = query.get("delimiter", [None])[0]
    key_marker = query.get("key-marker", [None])[0]
    version_id_marker = query.get("version-id-marker", [None])[0]
    max_keys = int(query.get("max-keys", [1000])[0])
    prefix = self._get_querystring(self.request, self.uri).get("prefix", [""])[0]
    bucket = self.backend.get_bucket(self.bucket_name)
    versions, prefixes, markers, next_key, next_version = self.backend.list_object_versions(
        self.bucket_name,
        delimiter=delimiter,
        key_marker=key_marker,
        max_keys=max_keys,
        prefix=prefix,
        version_id_marker=version_id_marker,
    )
    truncated = next_key is not None
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
        f"<Name>{_text(bucket.name)}</Name><Prefix>{_text(prefix or '')}</Prefix>",
        f"<KeyMarker>{_text(key_marker or '')}</KeyMarker>",
        f"<VersionIdMarker>{_text(version_id_marker or '')}</VersionIdMarker>",
        f"<MaxKeys>{max_keys}</MaxKeys>",
    ]
    if delimiter:
        parts.append(f"<Delimiter>{_text(delimiter)}</Delimiter>")
    parts.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
    if truncated:
        parts.append(f"<NextKeyMarker>{_text(next_key)}</NextKeyMarker>")
        if next_version is not None:
            parts.append(f"<NextVersionIdMarker>{_text(next_version)}</NextVersionIdMarker>")
    for key in versions:
        parts.append(
            f"<Version><Key>{_text(key.name)}</Key>"
            f"<VersionId>{_text(key.version_id if key.version_id is not None else 'null')}"
            f"</VersionId><IsLatest>{'true' if getattr(key, 'is_latest', False) else 'false'}"
            f"</IsLatest><LastModified>{key.last_modified_ISO8601}</LastModified>"
            f"<ETag>{_text(key.etag)}</ETag><Size>{key.size}</Size>"
            f"<StorageClass>{_text(key.storage_class)}</StorageClass>{_OWNER}</Version>"
        )
    for marker in markers:
        parts.append(
            f"<DeleteMarker><Key>{_text(marker.name)}</Key>"
            f"<VersionId>{_text(marker.version_id)}</VersionId>"
            f"<IsLatest>{'true' if getattr(marker, 'is_latest', False) else 'false'}</IsLatest>"
            f"<LastModified>{marker.last_modified_ISO8601}</LastModified>{_OWNER}</DeleteMarker>"
        )
    for common in prefixes:
        parts.append(f"<CommonPrefixes><Prefix>{_text(common)}</Prefix></CommonPrefixes>")
    parts.append("</ListVersionsResult>")
    headers = {"Content-Type": "application/xml", **self.response_headers}
    return 200, headers, "".join(parts)


def _adding(method: Any) -> Any:
    def call(store: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        names = getattr(store, _INDEX, None)
        if names is not None and key not in store:
            bisect.insort(names, key)
        return method(store, key, *args, **kwargs)

    return call


def _removing(method: Any) -> Any:
    def call(store: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        result = method(store, key, *args, **kwargs)
        names = getattr(store, _INDEX, None)
        if names is not None and key not in store:
            at = bisect.bisect_left(names, key)
            if at < len(names) and names[at] == key:
                del names[at]
        return result

    return call


def _patches() -> list[Any]:
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response
    from moto.s3.utils import _VersionedKeyStore

    store = _VersionedKeyStore
    return [
        mock.patch.object(S3Backend, "list_object_versions", list_object_versions),
        mock.patch.object(S3Response, "list_object_versions", list_object_versions_response),
        mock.patch.object(store, "__setitem__", _adding(store.__setitem__)),
        mock.patch.object(store, "setlist", _adding(store.setlist)),
        mock.patch.object(store, "pop", _removing(store.pop)),
        mock.patch.object(store, "__delitem__", _removing(store.__delitem__)),
    ]


@contextmanager
def s3_paging() -> Iterator[None]:
    """moto pages ListObjectVersions like S3 inside the block."""
    patches = _patches()
    for patch in patches:
        patch.start()
    try:
        yield
    finally:
        for patch in reversed(patches):
            patch.stop()


def install_s3_paging() -> None:
    """moto pages ListObjectVersions like S3 for the rest of the process (a server's)."""
    for patch in _patches():
        patch.start()
