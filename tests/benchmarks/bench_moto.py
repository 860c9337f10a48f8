"""The benchmark's moto server side: an index-backed ListObjectVersions (checked against
moto's own before each run) and the bucket pair it builds."""

from __future__ import annotations

import bisect
import random
from typing import Any

SOURCE, TARGET = "bench-source", "bench-target"


def install_indexed_listing() -> None:
    """Replace moto's O(bucket)-per-page ListObjectVersions with an index-backed twin."""
    from moto.s3.models import FakeKey, S3Backend

    original = S3Backend.list_object_versions
    index: dict[str, tuple[int, list[str]]] = {}

    def names_of(bucket: Any) -> list[str]:
        cached = index.get(bucket.name)
        if cached is None or cached[0] != len(bucket.keys):
            cached = (len(bucket.keys), sorted(bucket.keys.keys()))
            index[bucket.name] = cached
        return cached[1]

    def listing(  # noqa: PLR0917 - moto's own signature; moto calls it positionally
        self: Any,
        bucket_name: str,
        delimiter: str | None = None,
        key_marker: str | None = None,
        max_keys: int | None = 1000,
        prefix: str = "",
        version_id_marker: str | None = None,
    ) -> Any:
        if delimiter:
            return original(
                self, bucket_name, delimiter, key_marker, max_keys, prefix, version_id_marker
            )
        bucket = self.get_bucket(bucket_name)
        names = names_of(bucket)
        versions: list[Any] = []
        markers: list[Any] = []
        last: Any = None
        next_key = next_version = None
        skipping = key_marker is not None
        start = bisect.bisect_left(names, key_marker if key_marker is not None else prefix)
        for name in names[start:]:
            if name > prefix and not name.startswith(prefix) and not skipping:
                break
            history = sorted(
                bucket.keys.getlist(name, []), key=lambda v: -v.last_modified.timestamp()
            )
            for position, version in enumerate(history):
                version.is_latest = position == 0
                # the same skip rules as moto's own listing, including its KeyMarker quirk
                if skipping:
                    if not version_id_marker:
                        skipping = version.name < key_marker  # type: ignore[operator]
                        continue
                    if version.name == key_marker and version.version_id == version_id_marker:
                        skipping = False
                    continue
                if not name.startswith(prefix):
                    continue
                if max_keys is not None and len(versions) + len(markers) >= max_keys:
                    next_key = last.name if last else name
                    next_version = last.version_id if last else None
                    return versions, [], markers, next_key, next_version
                last = version
                (versions if isinstance(version, FakeKey) else markers).append(version)
        return versions, [], markers, next_key, next_version

    S3Backend.list_object_versions = listing  # type: ignore[method-assign]
    S3Backend._original_list_object_versions = original  # type: ignore[attr-defined]


def check_indexed_listing(client: Any, backend: Any) -> None:
    """The swapped listing must answer exactly as moto's own on a random bucket."""
    from moto.s3.models import S3Backend

    bucket = "bench-listing-check"
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rng = random.Random(7)
    for _ in range(300):
        key = f"{rng.choice('ab')}/{rng.randrange(40):02d}"
        if rng.random() < 0.2:
            client.delete_object(Bucket=bucket, Key=key)
        else:
            client.put_object(Bucket=bucket, Key=key, Body=b"x")

    def flatten(result: Any) -> Any:
        versions, _prefixes, markers, next_key, next_version = result
        return (
            [(v.name, v.version_id, v.is_latest) for v in versions],
            [(m.name, m.version_id, m.is_latest) for m in markers],
            next_key,
            next_version,
        )

    for prefix in ("", "a/", "b/1"):
        for max_keys in (1, 7, 1000):
            key_marker = version_id_marker = None
            for _ in range(400):
                args = (bucket, None, key_marker, max_keys, prefix, version_id_marker)
                want = flatten(S3Backend._original_list_object_versions(backend, *args))  # type: ignore[attr-defined]
                got = flatten(backend.list_object_versions(*args))
                if got != want:
                    raise SystemExit(f"indexed listing differs from moto's for {args}")
                if want[2] is None:
                    break
                key_marker, version_id_marker = want[2], want[3]


def populate(
    backend: Any, entries: int, vanished_fraction: float, ambiguous_fraction: float = 0.0
) -> tuple[list[str], int, int, int]:
    """N target keys; a fraction vanished from the source; a fraction of the live ones with a
    noncurrent target version of the source's size but other content (the worst case for
    proofs: only HeadObject can tell). Returns (vanished, s, t, ambiguous)."""
    vanished: list[str] = []
    every = round(1 / vanished_fraction) if vanished_fraction > 0 else 0
    ambiguous_every = round(1 / ambiguous_fraction) if ambiguous_fraction > 0 else 0
    ambiguous = 0
    for i in range(entries):
        key = f"data/{i // 1000:05d}/{i:09d}.bin"
        body = f"body-{i}".encode()
        if every and i % every == every // 2:
            backend.put_object(TARGET, key, body)
            backend.delete_object(TARGET, key)  # DataSync's REMOVE left a marker
            vanished.append(key)
            continue
        if ambiguous_every and i % ambiguous_every == 0:
            backend.put_object(TARGET, key, body.upper())  # same size, content purged at source
            ambiguous += 1
        backend.put_object(TARGET, key, body)
        backend.put_object(SOURCE, key, body)
    source_entries = entries - len(vanished)
    target_entries = entries + len(vanished) + ambiguous
    return vanished, source_entries, target_entries, ambiguous


def restore_vanished(backend: Any, vanished: list[str]) -> None:
    for key in vanished:
        backend.put_object(TARGET, key, f"body-{int(key[-13:-4])}".encode())
        backend.delete_object(TARGET, key)
