"""The plan: what a run would delete and why, spooled to disk so memory stays flat.

Plans are written as JSON lines (the same codec serves the CLI's local spool and the
state machine's plan chunks in S3), then read back for the guard and the purge. Their
field names are one or two letters (plans run to millions of lines); `readable_line`
gives a line the report's names (`syncpurge reports show RUN_ID --plan`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from syncpurge.models import Entry, PlannedEntry, Proof, Rule, SkipReason


def plan_to_json(item: PlannedEntry) -> dict[str, Any]:
    e = item.entry
    return {
        "k": e.key,
        "v": e.version_id,
        "l": e.is_latest,
        "m": e.last_modified.isoformat(),
        "d": e.is_delete_marker,
        "s": e.size,
        "t": e.etag,
        "r": item.rule.value,
        "x": item.detail,
        "skip": item.skip.value if item.skip else None,
        "p": item.source_predecessor,
        "f": item.proof.value if item.proof else None,
        "sk": item.source_key,
        "n": item.key_entries,
    }


def plan_from_json(doc: dict[str, Any]) -> PlannedEntry:
    entry = Entry(
        doc["k"], doc["v"], doc["l"], datetime.fromisoformat(doc["m"]), doc["d"], doc["s"], doc["t"]
    )
    skip = SkipReason(doc["skip"]) if doc["skip"] else None
    proof = Proof(doc["f"]) if doc.get("f") else None
    return PlannedEntry(
        entry, Rule(doc["r"]), doc["x"], skip, doc["p"], proof, doc.get("sk"), doc.get("n", 0)
    )


def readable_line(item: PlannedEntry) -> dict[str, Any]:
    """A plan line with the field names of the report's entries lines (docs/design.md §8), for a
    person: `outcome` is `planned`, or `skipped` with its `reason`; `detail` says why."""
    e = item.entry
    return {
        "key": e.key,
        "versionId": e.version_id,
        "isDeleteMarker": e.is_delete_marker,
        "rule": item.rule.value,
        "proof": item.proof.value if item.proof and item.to_purge else None,
        "outcome": "planned" if item.to_purge else "skipped",
        "reason": item.skip.value if item.skip else None,
        "size": e.size,
        "lastModified": e.last_modified.isoformat(),
        "isLatest": e.is_latest,
        "detail": item.detail,
    }


def encode_lines(items: Iterable[PlannedEntry]) -> Iterator[bytes]:
    for item in items:
        yield json.dumps(plan_to_json(item), ensure_ascii=False).encode("utf-8") + b"\n"


def decode_lines(lines: Iterable[bytes | str]) -> Iterator[PlannedEntry]:
    for line in lines:
        if line.strip():
            yield plan_from_json(json.loads(line))


def line_problem(err: Exception) -> str:
    """Why a line of a plan file (a hand edit) is no plan entry, in a few words."""
    if isinstance(err, json.JSONDecodeError):  # its own "line 1" would be the line's
        return f"not JSON: {err.msg} at column {err.colno}"
    if isinstance(err, KeyError):
        return f"no field {err}"
    return f"{type(err).__name__}: {err}"


@dataclass(slots=True)
class PlanCounts:
    """How many entries a plan would purge, and how many it skips (the guard's input)."""

    planned: int = 0
    skipped: int = 0

    def count(self, item: PlannedEntry) -> None:
        if item.to_purge:
            self.planned += 1
        else:
            self.skipped += 1

    def add(self, other: PlanCounts) -> None:
        self.planned += other.planned
        self.skipped += other.skipped
