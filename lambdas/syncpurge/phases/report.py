"""The report (docs/design.md §8): summary.json plus entries-NNNNN.jsonl, to a folder or to S3."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from syncpurge.data.files import RunFiles
from syncpurge.errors import InvalidInput
from syncpurge.models import Outcome, PlannedEntry
from syncpurge.phases.purge import OutcomeRecord
from syncpurge.summary import RuleTotals, Summary, Totals

ENTRIES_PER_FILE = 50_000


class ReportDestination(Protocol):
    @property
    def location(self) -> str: ...

    def write(self, name: str, body: bytes, content_type: str) -> None: ...


@dataclass(slots=True)
class StoreDestination:
    """A report or workspace folder as objects: in S3, or in a local FolderStore."""

    store: RunFiles
    bucket: str
    prefix: str  # ends with '/' or is empty

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def write(self, name: str, body: bytes, content_type: str) -> None:
        self.store.put_bytes(self.bucket, self.prefix + name, body, content_type)


STARTED_FILE = "started.json"


def write_started(destination: ReportDestination, doc: dict[str, Any]) -> None:
    """A run's first write, before its lock or any listing: proves the report destination
    takes writes (docs/design.md §5, a test write comes first), so one that can't is refused with
    nothing deleted, not found out at the plan."""
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8") + b"\n"
    destination.write(STARTED_FILE, body, "application/json")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/some/prefix' -> ('bucket', 'some/prefix/')."""
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise InvalidInput(f"{uri!r} names no bucket (expected s3://bucket/prefix)")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def record_to_line(record: OutcomeRecord, run_id: str = "") -> dict[str, Any]:
    entry = record.planned.entry
    proof = record.planned.proof
    return {
        "runId": run_id,
        "key": entry.key,
        "versionId": entry.version_id,
        "isDeleteMarker": entry.is_delete_marker,
        "rule": record.planned.rule.value,
        "proof": proof.value if proof and record.outcome is not Outcome.SKIPPED else None,
        "outcome": record.outcome.value,
        "reason": record.reason,
        "size": entry.size,
        "lastModified": entry.last_modified.isoformat(),
        "error": record.error,
    }


@dataclass(slots=True)
class OutcomeTally:
    """Running totals of outcomes, overall and by rule, counted from report lines."""

    totals: Totals = field(default_factory=Totals)
    by_rule: dict[str, RuleTotals] = field(default_factory=dict)
    by_proof: dict[str, int] = field(default_factory=dict)

    def add(self, line: dict[str, Any]) -> None:
        rule = self.by_rule.setdefault(str(line["rule"]), RuleTotals())
        outcome = line["outcome"]
        if outcome == Outcome.SKIPPED:
            self.totals.skipped += 1
            rule.skipped += 1
            return
        rule.planned += 1
        if outcome == Outcome.PURGED:
            self.totals.purged += 1
            rule.purged += 1
            proof = str(line.get("proof") or "unknown")
            self.by_proof[proof] = self.by_proof.get(proof, 0) + 1
            if not line["isDeleteMarker"]:
                self.totals.bytes_reclaimed += int(line["size"] or 0)
        elif outcome == Outcome.RETAINED:
            self.totals.retained += 1
            rule.retained += 1
        elif outcome == Outcome.FAILED:
            self.totals.failed += 1
            rule.failed += 1

    def merge(self, other: OutcomeTally) -> None:
        for name in Totals.model_fields:
            setattr(self.totals, name, getattr(self.totals, name) + getattr(other.totals, name))
        for rule, counts in other.by_rule.items():
            mine = self.by_rule.setdefault(rule, RuleTotals())
            for name in RuleTotals.model_fields:
                setattr(mine, name, getattr(mine, name) + getattr(counts, name))
        for proof, count in other.by_proof.items():
            self.by_proof[proof] = self.by_proof.get(proof, 0) + count


def set_totals(
    summary: Summary,
    *,
    source_entries: int,
    target_entries: int,
    planned: int,
    tally: OutcomeTally,
) -> None:
    """The summary's totals and byRule: listing figures plus the outcomes tallied."""
    summary.totals = Totals(
        source_entries=source_entries,
        target_entries=target_entries,
        planned=planned,
        purged=tally.totals.purged,
        retained=tally.totals.retained,
        skipped=tally.totals.skipped,
        failed=tally.totals.failed,
        bytes_reclaimed=tally.totals.bytes_reclaimed,
    )
    summary.by_rule = dict(sorted(tally.by_rule.items()))
    summary.by_proof = dict(sorted(tally.by_proof.items()))


def entries_file_name(number: int) -> str:
    return f"entries/entries-{number:05d}.jsonl"


class EntriesWriter:
    """Writes JSON lines into objects of at most `per_file` lines, named by `name(1)`,
    `name(2)`... (default entries-00001.jsonl, ...); `names` lists what was written and
    `line_counts` how many lines each holds.

    Lines go to a temporary file first so a chunk of any size costs no memory until it is
    shipped whole to the destination. Report entries, plan chunks and purge outcomes all
    go through here.
    """

    def __init__(
        self,
        destination: ReportDestination,
        per_file: int = ENTRIES_PER_FILE,
        name: Callable[[int], str] = entries_file_name,
    ) -> None:
        self.destination = destination
        self.per_file = per_file
        self.name = name
        self.names: list[str] = []
        self.line_counts: list[int] = []
        self._lines = 0
        self._chunk: IO[bytes] | None = None

    def write(self, line: dict[str, Any]) -> None:
        self.write_raw(json.dumps(line, ensure_ascii=False).encode() + b"\n")

    def write_raw(self, line: bytes, *, boundary: bool = True) -> None:
        """One already-encoded line, ending in a newline. A full object is shipped before
        a line that starts at a `boundary` (plan chunks split a key only when it alone
        would make an object twice the size)."""
        if self._lines >= self.per_file and (boundary or self._lines >= 2 * self.per_file):
            self._ship()
        if self._chunk is None:
            self._chunk = tempfile.TemporaryFile(prefix="syncpurge-lines-")  # noqa: SIM115
        self._chunk.write(line)
        self._lines += 1

    def _ship(self) -> None:
        if self._chunk is None:
            return
        self._chunk.seek(0)
        name = self.name(len(self.names) + 1)
        self.destination.write(name, self._chunk.read(), "application/x-ndjson")
        self.names.append(name)
        self.line_counts.append(self._lines)
        self._chunk.close()
        self._chunk = None
        self._lines = 0

    def close(self) -> None:
        self._ship()


def journal_lines(batch: list[PlannedEntry], run_id: str) -> bytes:
    """A batch as the journal records it, before it is sent (invariant 8)."""
    lines = (
        {
            "runId": run_id,
            "key": p.entry.key,
            "versionId": p.entry.version_id,
            "isDeleteMarker": p.entry.is_delete_marker,
            "rule": p.rule.value,
            "proof": p.proof.value if p.proof else None,
            # what the report needs of an entry whose outcome was never recorded
            "size": p.entry.size,
            "lastModified": p.entry.last_modified.isoformat(),
        }
        for p in batch
    )
    return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)


class BatchJournal:
    """Writes each batch to `journal/<stem>NNNNN.jsonl` before it is sent (invariant 8)."""

    def __init__(self, destination: ReportDestination, run_id: str, stem: str = "batch-") -> None:
        self.destination = destination
        self.run_id = run_id
        self.stem = stem
        self.sent = 0

    def __call__(self, batch: list[PlannedEntry]) -> str:
        self.sent += 1
        name = f"journal/{self.stem}{self.sent:05d}.jsonl"
        self.destination.write(name, journal_lines(batch, self.run_id), "application/x-ndjson")
        return name


def write_summary(destination: ReportDestination, summary: Summary) -> None:
    write_summary_doc(destination, summary.to_document())


def write_summary_doc(destination: ReportDestination, doc: dict[str, Any]) -> None:
    # One JSON object on one line: Athena's JSON SerDe and `jq -c` read it as one record.
    body = json.dumps(doc, ensure_ascii=False).encode()
    destination.write("summary.json", body + b"\n", "application/json")


def read_entries_lines(folder: Path) -> Iterator[dict[str, Any]]:
    """Every entry line of a local report folder, in file order."""
    for path in sorted(folder.glob("entries/entries-*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)
