"""Lineage from DataSync task reports (docs/design.md §3.3, the strongest proof).

A STANDARD task report with ObjectVersionIds=INCLUDE lists, per transferred object, the
target VersionId it wrote (`DstS3VersionId`) and the source object it read: its path
relative to the location, size, LastModified and ETag (Enhanced mode `SourceMetadata`;
Basic mode `SrcMetadata` with `Mtime`). See the DataSync user guide, "Monitoring your data
transfers with task reports" (Example task reports). DataSync writes them directly in
`<Subdirectory>Detailed-Reports/<task-id>/<execution-id>/`, named
`<execution-id>.files-transferred-v1-00001-<id>.json`; an execution id is `exec-` and 17 hex
digits (DescribeTaskExecution's TaskExecutionArn pattern). Only such files are read: anyone
who may write elsewhere under the folder (e.g. `*Purge-Reports/*`) must not plant lineage.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from syncpurge.core.source_facts import Origin
from syncpurge.data.s3store import S3Store

DETAILED_REPORTS = "Detailed-Reports/"
_FRACTION = re.compile(r"\.(\d+)")
# `<execution-id>/<execution-id>.files-<kind>-v<n>-<part>-<id>.json`, relative to the task's
# folder: the files DataSync itself writes there.
_REPORT_FILE = re.compile(
    r"(?P<execution>exec-[0-9a-f]{17})/(?P=execution)"
    r"\.files-(?P<kind>[a-z]+)-v[0-9]+-[0-9]+-[0-9a-f]+\.json"
)


def doubted_advisory(keys: int) -> str:
    """The report's word on keys where lineage was set aside (docs/design.md §3.3, fails safe)."""
    return (
        f"lineage not trusted on {keys} key(s): their DataSync task-report records match none "
        "of their surviving source versions (another source, or metadata that disagrees), so "
        "their versions were proven by size, checksum or MD5 ETag instead"
    )


def report_prefix(report_subdirectory: str, task_id: str) -> str:
    """Where a task's detailed reports live in its report bucket."""
    return f"{report_subdirectory}{DETAILED_REPORTS}{task_id}/"


def stray_files_advisory(files: int) -> str:
    """The report's word on files in the task's report folder that DataSync did not write."""
    return (
        f"{files} file(s) in the DataSync task's Detailed-Reports folder are not task reports "
        "as DataSync writes them (directly in an execution's folder, named as DataSync names "
        "them); they were not read as lineage"
    )


def report_kind(relative: str) -> str | None:
    """The kind ('transferred', 'verified', ...) of a task report DataSync writes, from its
    key relative to the task's folder; None: DataSync writes no such file."""
    shape = _REPORT_FILE.fullmatch(relative)
    return shape["kind"] if shape else None


def is_transferred_report(relative: str) -> bool:
    return report_kind(relative) == "transferred"


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
    """Target VersionId -> Origin, for the diff's lineage tier; `stray_files`: how many
    files in the task's report folder DataSync did not write (left unread)."""

    def __init__(self, records: Iterable[tuple[str, Origin]] = ()) -> None:
        self._origins: dict[str, Origin] = dict(records)
        self.stray_files = 0

    def __len__(self) -> int:
        return len(self._origins)

    def add(self, version_id: str, origin: Origin) -> None:
        self._origins[version_id] = origin

    def lookup(self, version_id: str) -> Origin | None:
        return self._origins.get(version_id)

    def records(self) -> Iterator[tuple[str, Origin]]:
        return iter(self._origins.items())

    @classmethod
    def from_lines(cls, lines: Iterable[bytes | str]) -> LineageIndex:
        return cls(origin_from_json(json.loads(line)) for line in lines if line.strip())


def read_task_reports(
    store: S3Store, bucket: str, prefix: str, *, strays: list[str] | None = None
) -> Iterator[tuple[str, Origin]]:
    """Every lineage record of the transferred reports DataSync wrote under `prefix` (a
    task's folder) in `bucket`; the keys of files there that DataSync did not write go to
    `strays`, unread."""
    for key in store.list_keys(bucket, prefix):
        kind = report_kind(key.removeprefix(prefix))
        if kind is None and strays is not None:
            strays.append(key)
        elif kind == "transferred":
            yield from parse_transferred(json.loads(store.get_bytes(bucket, key)))
