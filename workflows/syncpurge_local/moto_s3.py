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
  at 50,000 entries); this listing walks a sorted index of key names from the marker.

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
    from moto.s3.utils import _VersionedKeyStore

    store = _VersionedKeyStore
    return [
        mock.patch.object(S3Backend, "list_object_versions", list_object_versions),
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
