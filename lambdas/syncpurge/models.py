"""Domain types shared by listing, diff, purge and report.

Entries are plain slotted dataclasses because the diff touches every one of them (millions
per run); the request and the summary are pydantic models because they cross process and
service boundaries and must be validated there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Mode(StrEnum):
    DATASYNC = "datasync"
    REPLICATION = "replication"


class Rule(StrEnum):
    VANISHED_KEY = "vanished-key"
    ORPHAN_VERSION = "orphan-version"
    ORPHAN_MARKER = "orphan-marker"


class Outcome(StrEnum):
    PLANNED = "planned"  # in the plan; nothing was attempted (dry run, guard tripped)
    PURGED = "purged"
    RETAINED = "retained"
    SKIPPED = "skipped"
    FAILED = "failed"


class SkipReason(StrEnum):
    GRACE = "grace"
    REAPPEARED = "reappeared"
    UNVERIFIABLE = "unverifiable"
    NOT_A_REPLICA = "not-a-replica"
    PROTECTS_CURRENT = "protects-current"
    ALREADY_ABSENT = "already-absent"
    STALE = "stale"  # an applied plan's entry that no longer qualifies


class Proof(StrEnum):
    """docs/design.md §3.3: what proves a purge. Every purged entry names one."""

    VANISHED = "vanished"  # the source lists no entry of the key (re-checked before the delete)
    NO_SOURCE_MARKER = "no-source-marker"  # datasync: the source history holds no marker
    LINEAGE = "lineage"  # DataSync task report: its source version is gone
    CHECKSUM = "checksum"  # full-object checksums of one algorithm differ from every source's
    SIZE = "size"  # no source version of the key has this size
    MD5 = "md5"  # MD5 ETags (single-part, no KMS/SSE-C, per HeadObject) differ from every source's
    SHARED_VERSION_ID = "shared-version-id"  # replication: noncurrent, the key shares a VersionId
    REPLICA_STATUS = "replica-status"  # replication: HeadObject says ReplicationStatus REPLICA
    FOLLOWS_REPLICAS = "follows-replicas"  # replication: a marker whose key's versions all go


class RunStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    DRY_RUN = "DRY_RUN"
    GUARD_TRIPPED = "GUARD_TRIPPED"
    FAILED = "FAILED"


@dataclass(slots=True)
class Entry:
    """One item of a ListObjectVersions listing: a version or a delete marker.

    Not frozen: a frozen dataclass sets each field through object.__setattr__, which
    makes building millions of them per run measurably slower. Treat as immutable.
    """

    key: str
    version_id: str
    is_latest: bool
    last_modified: datetime
    is_delete_marker: bool
    size: int | None = None
    etag: str | None = None


# (KeyMarker, VersionIdMarker) exactly as a ListObjectVersions response named them.
PageMarker = tuple[str, str]


@dataclass(slots=True, frozen=True)
class KeyHistory:
    """Entries of exactly one key in one bucket, in listing order: the whole history, or
    one segment of a key too long to hold at once (`first` / `last` say which).

    `page_marker` is the marker of the page the segment's first entry came from (None: the
    first page); listing again from it is how a stopped diff resumes exactly. For a segment
    that is not its key's last, `next_marker` is the marker of the page that holds the entry
    after it.
    """

    key: str
    entries: tuple[Entry, ...]
    page_marker: PageMarker | None = None
    first: bool = True
    last: bool = True
    next_marker: PageMarker | None = None

    @property
    def whole(self) -> bool:
        return self.first and self.last


@dataclass(slots=True, frozen=True)
class PlannedEntry:
    """A target entry the diff selected: to purge (skip None, with its proof) or skipped.

    `source_key` is the key this target entry maps to in the source (the scope's key
    mapping); `source_predecessor` is the last source key the diff saw before it. Verify
    before destroy re-lists the source from there, so one LIST covers a run of vanished keys.
    `key_entries` is how many entries the target key had when diffed: its current entry is
    purged only when every one of them is (invariant 6).
    """

    entry: Entry
    rule: Rule
    detail: str
    skip: SkipReason | None = None
    source_predecessor: str | None = None
    proof: Proof | None = None
    source_key: str | None = None
    key_entries: int = 0

    @property
    def to_purge(self) -> bool:
        return self.skip is None

    @property
    def mapped_source_key(self) -> str:
        return self.entry.key if self.source_key is None else self.source_key


# --------------------------------------------------------------------------- request


NonNegativeInt = Annotated[int, Field(ge=0)]
MAX_GRACE_MINUTES = 525_600  # a year
# DataSync filter patterns use '|' to separate patterns and '*' as a wildcard, and anchor at
# the location root with a leading '/': a prefix holding them can't be expressed as Includes.
PREFIX_FORBIDDEN = ("|", "*")


class EraseSpec(BaseModel):
    """docs/erasure.md: the keys an erasure names, inline, in a file in the report bucket,
    or under a prefix; exactly one of them. Keys are relative to the task's locations."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    keys: list[str] | None = None
    keys_file: str | None = Field(default=None, alias="keysFile", pattern=r"^s3://[^/]+/.+")
    prefix: str | None = None

    @model_validator(mode="after")
    def _one_source_of_keys(self) -> EraseSpec:
        given = [name for name in ("keys", "keysFile", "prefix") if self._given(name)]
        if len(given) != 1:
            raise ValueError("give exactly one of keys, keysFile or prefix")
        if self.keys is not None and (not self.keys or "" in self.keys):
            raise ValueError("keys: name at least one key, and no empty one")
        if self.prefix is not None:
            problem = prefix_problem(self.prefix)
            if problem:
                raise ValueError(f"prefix: {problem}")
        return self

    def _given(self, name: str) -> bool:
        return {"keys": self.keys, "keysFile": self.keys_file, "prefix": self.prefix}[
            name
        ] is not None


class ReconcileRequest(BaseModel):
    """docs/design.md §7: the state machine input; the CLI builds the same model from its flags."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    prefixes: list[str] = Field(default_factory=list)
    dry_run: bool = Field(default=False, alias="dryRun")
    skip_sync: bool = Field(default=False, alias="skipSync")
    mode: Mode = Field(default=Mode.DATASYNC)
    rules: list[Rule] = Field(default_factory=lambda: list(Rule))
    grace_minutes: NonNegativeInt | None = Field(
        default=None, alias="graceMinutes", le=MAX_GRACE_MINUTES
    )
    max_purge: NonNegativeInt = Field(default=100_000, alias="maxPurge")
    max_purge_fraction: float = Field(default=0.05, alias="maxPurgeFraction", gt=0, le=1)
    force: bool = False
    bypass_governance: bool = Field(default=False, alias="bypassGovernance")
    # A DataSync task with PreserveDeletedFiles=PRESERVE means "keep what the source
    # deleted": the state machine purges nothing then unless this says so.
    override_preserve: bool = Field(default=False, alias="overridePreserve")
    # A wrong or empty source must never empty a target: refused whatever `force` says.
    allow_unrelated_source: bool = Field(default=False, alias="allowUnrelatedSource")
    # Purge the plan an earlier run stored (usually a dry run), each entry re-checked.
    apply_plan: str | None = Field(
        default=None, alias="applyPlan", pattern=r"^[A-Za-z0-9_.:-]{1,80}$"
    )
    # Erase named keys from the target instead of reconciling (docs/erasure.md).
    erase: EraseSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _coerce_enums(cls, data: Any) -> Any:
        # Strict mode refuses "datasync" for an enum field; JSON input carries enums as strings.
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("mode"), str):
                data["mode"] = _enum_or_raise(Mode, data["mode"], "mode")
            if isinstance(data.get("rules"), list):
                data["rules"] = [
                    _enum_or_raise(Rule, r, "rules") if isinstance(r, str) else r
                    for r in data["rules"]
                ]
            if isinstance(data.get("maxPurgeFraction"), int) and not isinstance(
                data.get("maxPurgeFraction"), bool
            ):
                data["maxPurgeFraction"] = float(data["maxPurgeFraction"])
        return data

    @model_validator(mode="after")
    def _check_scope(self) -> ReconcileRequest:
        if not self.rules:
            raise ValueError("rules: name at least one rule")
        if self.erase is not None:
            mixed = [n for n, v in self.erase_excludes().items() if v]
            if mixed:
                raise ValueError(
                    f"erase: an erasure names its own keys and deletes at once; it can't "
                    f"go with {', '.join(mixed)}"
                )
        for index, prefix in enumerate(self.prefixes):
            problem = prefix_problem(prefix)
            if problem:
                raise ValueError(f"prefixes[{index}]: {problem}")
        return self

    def erase_excludes(self) -> dict[str, bool]:
        """The fields an erasure can't go with, and whether each is set."""
        return {
            "prefixes": bool(self.prefixes),
            "dryRun": self.dry_run,
            "applyPlan": self.apply_plan is not None,
        }

    @property
    def effective_grace_minutes(self) -> int:
        if self.grace_minutes is not None:
            return self.grace_minutes
        return 15 if self.mode is Mode.REPLICATION else 0

    def scope_prefixes(self) -> list[str]:
        """The prefixes to list, with duplicates and prefixes covered by others removed."""
        if not self.prefixes:
            return [""]
        kept: list[str] = []
        for prefix in sorted(set(self.prefixes)):
            if not any(prefix.startswith(k) for k in kept):
                kept.append(prefix)
        return kept


def prefix_problem(prefix: str) -> str | None:
    """Why `prefix` can't scope a run (sync and purge alike), or None."""
    if prefix == "":
        return "an empty prefix is not allowed (omit prefixes for the whole scope)"
    if prefix.startswith("/"):
        return f"{prefix!r} starts with '/': prefixes are relative key prefixes, e.g. 'logs/'"
    if prefix.startswith("s3://"):  # a --prefix flag's path is converted; a request's isn't
        return f"{prefix!r} is an S3 URI: give the key prefix in the bucket, e.g. 'logs/'"
    for char in PREFIX_FORBIDDEN:
        if char in prefix:
            return f"{prefix!r} contains {char!r}, which DataSync filters can't express"
    if len(prefix.encode("utf-8")) > 1024:
        return f"{prefix[:40]!r}... is longer than 1,024 bytes"
    return None


def _enum_or_raise(enum: type[StrEnum], value: str, field: str) -> StrEnum:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum)
        raise ValueError(f"{field}: {value!r} is not one of {allowed}") from None


def parse_request(doc: Any, names: dict[str, str] | None = None) -> ReconcileRequest:
    """Validate a request; an error names the field (or, via `names`, the flag setting it)."""
    from syncpurge.errors import InvalidInput

    try:
        return ReconcileRequest.model_validate(doc)
    except ValidationError as err:
        raise InvalidInput(describe_validation_error(err, names or {})) from None


def describe_validation_error(err: ValidationError, names: dict[str, str]) -> str:
    problems = []
    for problem in err.errors():
        loc = [str(part) for part in problem["loc"]]
        field = names.get(loc[0], loc[0]) if loc else ""
        where = field + "".join(f"[{part}]" for part in loc[1:])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown field"
        if not where:
            # A whole-request check names its field at the start of its message.
            for name, flag in names.items():
                if message.startswith((f"{name}:", f"{name}[")):
                    message = flag + message[len(name) :]
                    break
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


# --------------------------------------------------------------------------- report


class GuardDecision(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    tripped: bool
    forced: bool
    planned: int
    target_entries_in_scope: int = Field(alias="targetEntriesInScope")
    max_purge: int = Field(alias="maxPurge")
    max_purge_fraction: float = Field(alias="maxPurgeFraction")
    reason: str | None = None
