"""Hand-built histories and a runner for the diff and its proofs (the rule tests' kit)."""

from __future__ import annotations

from datetime import UTC, datetime

from syncpurge.core.diff import DiffStats, diff_histories
from syncpurge.core.proof import resolve
from syncpurge.core.rules import DiffPolicy
from syncpurge.core.source_facts import Origin
from syncpurge.data.s3shapes import ObjectFacts
from syncpurge.models import Entry, KeyHistory, Mode, PlannedEntry, Rule

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ALL_RULES = frozenset(Rule)


def version(
    key: str,
    vid: str,
    *,
    latest: bool = False,
    size: int = 5,
    etag: str = '"aa"',
    at: datetime = T0,
) -> Entry:
    return Entry(key, vid, latest, at, False, size, etag)


def marker(key: str, vid: str, *, latest: bool = False, at: datetime = T0) -> Entry:
    return Entry(key, vid, latest, at, True)


def histories(*entries: Entry) -> list[KeyHistory]:
    by_key: dict[str, list[Entry]] = {}
    for entry in entries:
        by_key.setdefault(entry.key, []).append(entry)
    return [KeyHistory(k, tuple(v)) for k, v in sorted(by_key.items())]


class Heads:
    """HeadObject answers by (key, VersionId); a version not listed can't be described."""

    def __init__(self, facts: dict[tuple[str, str], ObjectFacts] | None = None) -> None:
        self.facts = facts or {}
        self.asked: list[tuple[str, str]] = []

    def head_version(self, bucket: str, key: str, version_id: str) -> ObjectFacts | None:
        self.asked.append((key, version_id))
        return self.facts.get((key, version_id))


def facts(
    etag: str = '"aa"',
    *,
    sse: str | None = None,
    crc: str | None = None,
    replica: bool = False,
) -> ObjectFacts:
    return ObjectFacts(
        etag=etag,
        size=5,
        server_side_encryption=sse,
        customer_key=False,
        checksums={"CRC64NVME": crc} if crc else {},
        checksum_type="FULL_OBJECT" if crc else None,
        replication_status="REPLICA" if replica else None,
    )


def run(
    source: list[KeyHistory],
    target: list[KeyHistory],
    mode: Mode = Mode.DATASYNC,
    rules: frozenset[Rule] = ALL_RULES,
    cutoff: datetime | None = None,
    *,
    heads: Heads | None = None,
    lineage: dict[str, Origin] | None = None,
) -> tuple[list[PlannedEntry], DiffStats]:
    stats = DiffStats()
    policy = DiffPolicy(mode, rules, cutoff, (lineage or {}).get)
    reader = heads or Heads()
    plan = list(
        resolve(
            diff_histories(iter(source), iter(target), policy, stats),
            source=reader,
            target=reader,
            source_bucket="src",
            target_bucket="dst",
        )
    )
    return plan, stats


def purged(plan: list[PlannedEntry]) -> set[tuple[str, str, Rule]]:
    return {(p.entry.key, p.entry.version_id, p.rule) for p in plan if p.to_purge}
