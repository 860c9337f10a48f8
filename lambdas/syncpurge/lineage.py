"""Lineage from DataSync task reports (DESIGN §3.3, the strongest proof).

A STANDARD task report with ObjectVersionIds=INCLUDE lists, per transferred object, the
target VersionId it wrote (`DstS3VersionId`) and the source object it read: its path
relative to the location, size, LastModified and ETag (Enhanced mode `SourceMetadata`;
Basic mode `SrcMetadata` with `Mtime`). See the DataSync user guide, "Monitoring your data
transfers with task reports" (Example task reports). DataSync writes them under
`<Subdirectory>/Detailed-Reports/<task-id>/<execution-id>/` as `*files-transferred*.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from syncpurge.data.s3store import S3Store
from syncpurge.source_facts import Origin

DETAILED_REPORTS = "Detailed-Reports/"
_FRACTION = re.compile(r"\.(\d+)")


def doubted_advisory(keys: int) -> str:
    """The report's word on keys where lineage was set aside (DESIGN §3.3, fails safe)."""
    return (
        f"lineage not trusted on {keys} key(s): their DataSync task-report records match none "
        "of their surviving source versions (another source, or metadata that disagrees), so "
        "their versions were proven by size, checksum or MD5 ETag instead"
    )


def report_prefix(report_subdirectory: str, task_id: str) -> str:
    """Where a task's detailed reports live in its report bucket."""
    return f"{report_subdirectory}{DETAILED_REPORTS}{task_id}/"


def is_transferred_report(key: str) -> bool:
    return "transferred" in key.rsplit("/", 1)[-1] and key.endswith(".json")


def _second(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp (to the nanosecond in reports) truncated to the second, UTC."""
    if not value:
        return None
    text = _FRACTION.sub("", value.strip()).replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def parse_transferred(document: dict[str, Any]) -> Iterator[tuple[str, Origin]]:
    """(target VersionId, Origin) of every successful transfer a report lists."""
    for item in document.get("Transferred") or ():
        version_id = item.get("DstS3VersionId")
        if not version_id or item.get("TransferStatus") != "SUCCESS":
            continue
        path = str(item.get("RelativePath", ""))
        if "SourceMetadata" in item:  # Enhanced mode
            meta = item["SourceMetadata"] or {}
            modified = meta.get("LastModified")
            etag = (meta.get("SystemMetadata") or {}).get("ETag")
        else:  # Basic mode: paths start with '/', no ETag
            meta = item.get("SrcMetadata") or {}
            modified = meta.get("Mtime")
            etag = None
            path = path.removeprefix("/")
        size = meta.get("ContentSize")
        yield (
            str(version_id),
            Origin(path, int(size) if size is not None else None, _second(modified), etag),
        )


def origin_to_json(version_id: str, origin: Origin) -> dict[str, Any]:
    return {
        "v": version_id,
        "k": origin.relative_key,
        "s": origin.size,
        "m": origin.last_modified.isoformat() if origin.last_modified else None,
        "e": origin.etag,
    }


def origin_from_json(doc: dict[str, Any]) -> tuple[str, Origin]:
    modified = datetime.fromisoformat(doc["m"]) if doc.get("m") else None
    return doc["v"], Origin(doc["k"], doc.get("s"), modified, doc.get("e"))


class LineageIndex:
    """Target VersionId -> Origin, for the diff's lineage tier."""

    def __init__(self, records: Iterable[tuple[str, Origin]] = ()) -> None:
        self._origins: dict[str, Origin] = dict(records)

    def __len__(self) -> int:
        return len(self._origins)

    def add(self, version_id: str, origin: Origin) -> None:
        self._origins[version_id] = origin

    def lookup(self, version_id: str) -> Origin | None:
        return self._origins.get(version_id)

    @classmethod
    def from_lines(cls, lines: Iterable[bytes | str]) -> LineageIndex:
        return cls(origin_from_json(json.loads(line)) for line in lines if line.strip())


def read_task_reports(store: S3Store, bucket: str, prefix: str) -> Iterator[tuple[str, Origin]]:
    """Every lineage record of the transferred reports under `prefix` in `bucket`."""
    for key in store.list_keys(bucket, prefix):
        if is_transferred_report(key):
            yield from parse_transferred(json.loads(store.get_bytes(bucket, key)))
