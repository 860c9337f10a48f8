"""Random bucket histories for the whole-run property (tests/integration/test_properties.py),
and the reference model it checks a run against: docs/design.md §3 in its plain words, read from raw
listings and the ground truth of every version's body, independent of the library."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import strategies as st
from moto import mock_aws
from moto.s3 import models as moto_s3

from syncpurge.core.lineage import LineageIndex
from syncpurge.core.scope import Scope
from syncpurge.core.source_facts import Origin
from syncpurge_local.datasync_copy import Transfer, copy_like_datasync
from syncpurge_local.moto_s3 import s3_paging
from tests.helpers import MotoClock, kms_etags, make_versioned_bucket, moto_s3_client

# Keys chosen to collide on prefixes and to need exact, byte-for-byte handling; 'out/…' is
# outside the scope (the task's Excludes), 'dir/x/y' makes DataSync write folder objects.
KEYS = ["a.txt", "a.txt.bak", "a%20b", "\u00e9", "dir/x/y"]
OUTSIDE = ["out/z"]
BODIES = ["1", "2", "22", "m" * 40]  # few bodies: content collides across versions
SCOPE = Scope(excludes=("/out",))
MULTIPART_PART = 16

operation = st.one_of(
    st.tuples(st.just("put"), st.sampled_from(KEYS + OUTSIDE), st.sampled_from(BODIES)),
    st.tuples(st.just("put_kms"), st.sampled_from(KEYS), st.sampled_from(BODIES)),
    st.tuples(st.just("put_multipart"), st.sampled_from(KEYS), st.sampled_from(BODIES)),
    # an equal body written again and superseded before the next sync: never copied
    st.tuples(
        st.just("rewrite"),
        st.sampled_from(KEYS),
        st.sampled_from(BODIES),
        st.sampled_from(BODIES),
        st.booleans(),
    ),
    st.tuples(st.just("delete"), st.sampled_from(KEYS)),
    st.tuples(st.just("delete_version"), st.sampled_from(KEYS + OUTSIDE), st.integers(0, 5)),
    st.tuples(st.just("delete_version"), st.sampled_from(KEYS), st.integers(0, 5)),
    st.tuples(st.just("delete_oldest"), st.sampled_from(KEYS)),
    st.tuples(st.just("sync"), st.booleans()),
    st.tuples(st.just("sync"), st.booleans()),
    st.tuples(
        st.just("stray_target_put"), st.sampled_from(KEYS + OUTSIDE), st.sampled_from(BODIES)
    ),
    # the next writes land in the next second: task-report records name a version to the
    # second, so what shares a second with what decides what a record matches
    st.tuples(st.just("tick")),
)

Listed = dict[str, list[dict[str, Any]]]


def listing(client: Any, bucket: str) -> Listed:
    """key -> entries, read independently of the library (one big page each)."""
    by_key: Listed = defaultdict(list)
    response = client.list_object_versions(Bucket=bucket)
    for v in response.get("Versions", []):
        by_key[v["Key"]].append({**v, "marker": False})
    for m in response.get("DeleteMarkers", []):
        by_key[m["Key"]].append({**m, "marker": True})
    return dict(by_key)


@dataclass
class World:
    """The buckets plus the ground truth the reference model may read."""

    client: Any
    source: str = "prop-src"
    target: str = "prop-dst"
    body: dict[str, str] = field(default_factory=dict)  # VersionId -> body
    kms: set[str] = field(default_factory=set)  # VersionIds written with SSE-KMS
    copied_from: dict[str, str] = field(default_factory=dict)  # target vid -> source vid
    lineage: LineageIndex = field(default_factory=LineageIndex)
    basic: bool = False  # a Basic-mode task: its records carry no ETag
    clock: MotoClock = field(default_factory=MotoClock)
    # every permanent delete at the source, (key, VersionId) in the order made
    erased: list[tuple[str, str]] = field(default_factory=list)

    def put(
        self, bucket: str, key: str, body: str, *, kms: bool = False, multipart: bool = False
    ) -> None:
        if multipart:
            upload = self.client.create_multipart_upload(Bucket=bucket, Key=key)
            data = body.encode()
            parts = []
            for number, at in enumerate(range(0, max(len(data), 1), MULTIPART_PART), start=1):
                part = self.client.upload_part(
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload["UploadId"],
                    PartNumber=number,
                    Body=data[at : at + MULTIPART_PART],
                )
                parts.append({"ETag": part["ETag"], "PartNumber": number})
            vid = self.client.complete_multipart_upload(
                Bucket=bucket,
                Key=key,
                UploadId=upload["UploadId"],
                MultipartUpload={"Parts": parts},
            )["VersionId"]
        else:
            extra = {"ServerSideEncryption": "aws:kms"} if kms else {}
            vid = self.client.put_object(Bucket=bucket, Key=key, Body=body.encode(), **extra)[
                "VersionId"
            ]
        self.body[vid] = body
        if kms:
            self.kms.add(vid)

    def apply(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        if kind == "put":
            self.put(self.source, op[1], op[2])
        elif kind == "put_kms":
            self.put(self.source, op[1], op[2], kms=True)
        elif kind == "put_multipart":
            self.put(self.source, op[1], op[2], multipart=True)
        elif kind == "rewrite":
            self.put(self.source, op[1], op[2], kms=op[4])
            self.put(self.source, op[1], op[3], kms=op[4])
        elif kind == "tick":
            self.clock.next_second()
        elif kind == "stray_target_put":
            self.put(self.target, op[1], op[2])
        elif kind == "delete":
            self.client.delete_object(Bucket=self.source, Key=op[1])
        elif kind == "delete_version":
            history = sorted(
                v["VersionId"] for v in listing(self.client, self.source).get(op[1], [])
            )
            if history:
                vid = history[op[2] % len(history)]
                self.erase(op[1], vid)
        elif kind == "delete_oldest":  # e.g. a NewerNoncurrentVersions lifecycle rule
            listed = listing(self.client, self.source).get(op[1], [])
            versions = [e for e in listed if not e["marker"]]
            if versions:
                self.erase(op[1], versions[-1]["VersionId"])  # listed newest first
        else:
            self.sync(folder_objects=op[1])

    def erase(self, key: str, version_id: str) -> None:
        self.client.delete_object(Bucket=self.source, Key=key, VersionId=version_id)
        self.erased.append((key, version_id))

    def sync(self, *, folder_objects: bool) -> None:
        transfers: list[Transfer] = []
        copy_like_datasync(
            self.client,
            self.source,
            self.target,
            excludes=list(SCOPE.excludes),
            folder_objects=folder_objects,
            multipart_threshold=32,
            transfers=transfers,
        )
        for t in transfers:
            self.body[t.target_version_id] = self.body[t.source["VersionId"]]
            self.copied_from[t.target_version_id] = t.source["VersionId"]
            last = t.source["LastModified"].astimezone(UTC).replace(microsecond=0)
            etag = None if self.basic else t.source["ETag"]
            self.lineage.add(
                t.target_version_id, Origin(t.relative_key, t.source["Size"], last, etag)
            )
        for listed in listing(self.client, self.target).values():
            for entry in listed:
                if not entry["marker"]:
                    self.body.setdefault(entry["VersionId"], "")  # folder objects


@contextmanager
def empty_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, Path]]:
    """A World on a fresh moto (S3's paging, KMS ETags, one-byte multipart parts, the
    World's clock) with both buckets made, and a scratch folder: one example of a property."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(moto_s3, "S3_UPLOAD_PART_MIN_SIZE", 1)
    clock = MotoClock()
    with (
        mock.patch.object(moto_s3, "utcnow", clock),
        mock_aws(),
        s3_paging(),
        kms_etags(),
        tempfile.TemporaryDirectory() as tmp,
    ):
        world = World(moto_s3_client(), clock=clock)
        make_versioned_bucket(world.client, world.source)
        make_versioned_bucket(world.client, world.target)
        yield world, Path(tmp)


def reference(
    world: World, source: Listed, target: Listed
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(purged, skipped) (key, VersionId) by the plain words of docs/design.md §3, in datasync
    mode."""
    purge: set[tuple[str, str]] = set()
    skipped: set[tuple[str, str]] = set()
    in_scope = {k for k in source if SCOPE.admits(k)}
    for key, entries in target.items():
        if not SCOPE.admits(key):
            continue
        held = source.get(key, [])
        if not held:
            if key.endswith("/") and any(k.startswith(key) for k in in_scope):
                continue
            purge.update((key, t["VersionId"]) for t in entries)
            continue
        versions = [s for s in held if not s["marker"]]
        for t in entries:
            ident = (key, t["VersionId"])
            if t["IsLatest"]:
                continue
            if t["marker"]:
                if not any(s["marker"] for s in held):
                    purge.add(ident)
                continue
            if any((s["Size"], s["ETag"]) == (t["Size"], t["ETag"]) for s in versions):
                continue  # an equality keeps it, before any other tier
            same_size = [s for s in versions if s["Size"] == t["Size"]]
            origin = world.lineage.lookup(t["VersionId"])
            if origin is not None and trusted(world, key, entries, versions):
                if any(held_by(origin, s) for s in versions):
                    continue  # the source version DataSync copied it from exists
                # Gone: every same-size source version must have a copy of its own that
                # stays (by lineage) or be proven different by MD5 ETags.
                copies = copied(world, key, entries, versions)
                uncopied = [s for s in same_size if s["VersionId"] not in copies]
                if not uncopied or all(md5_etag(world, e) for e in [t, *uncopied]):
                    purge.add(ident)
                else:
                    skipped.add(ident)
                continue
            if not same_size or all(md5_etag(world, e) for e in [t, *same_size]):
                purge.add(ident)
            else:
                skipped.add(ident)
    return purge, skipped


def held_by(origin: Origin, source_version: dict[str, Any]) -> bool:
    """The record matches the version: size and second, and ETag when it has one (a
    Basic-mode record has none)."""
    return (
        source_version["Size"] == origin.size
        and origin.etag in (None, source_version["ETag"])
        and source_version["LastModified"].replace(microsecond=0) == origin.last_modified
    )


def copied(
    world: World, key: str, target: list[dict[str, Any]], versions: list[dict[str, Any]]
) -> set[str]:
    """Source VersionIds that a target version is the copy of, by a record naming exactly
    that one surviving source version, by ETag: one without (Basic mode) names none."""
    found = set()
    for t in target:
        origin = None if t["marker"] else world.lineage.lookup(t["VersionId"])
        if origin is not None and origin.relative_key == key and origin.etag is not None:
            held = [s["VersionId"] for s in versions if held_by(origin, s)]
            if len(held) == 1:
                found.add(held[0])
    return found


def trusted(
    world: World, key: str, target: list[dict[str, Any]], versions: list[dict[str, Any]]
) -> bool:
    """Lineage counts on a key only if one of its records matches a surviving version."""
    for t in target:
        origin = None if t["marker"] else world.lineage.lookup(t["VersionId"])
        if (
            origin is not None
            and origin.relative_key == key
            and any(held_by(origin, s) for s in versions)
        ):
            return True
    return False


def md5_etag(world: World, entry: dict[str, Any]) -> bool:
    return "-" not in entry["ETag"] and entry["VersionId"] not in world.kms
