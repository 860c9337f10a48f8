"""What an erasure is asked, what it runs with, and what it found: the types every part
of an erasure shares, and the listing of the named keys in one bucket."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncpurge.data.s3store import S3Store
from syncpurge.erasure.keys import Copy
from syncpurge.erasure.listing import KeyListing, list_key_set
from syncpurge.models import PlannedEntry
from syncpurge.phases.deletes import OutcomeRecord
from syncpurge.phases.report import ReportDestination


class ErasureGuardTripped(Exception):
    """The erasure would purge more than max_purge entries: nothing was deleted."""


class ErasureIncomplete(Exception):
    """The erasure stopped after its purge began: what it deleted is in its journal and
    entries, and no receipt was written. The message says how much and where."""


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    source: Copy
    targets: tuple[Copy, ...]
    keys: tuple[str, ...]  # named keys, relative to each root; () with a prefix
    prefix: str | None = None
    keys_file: str | None = None
    max_purge: int = 100_000
    force: bool = False
    bypass_governance: bool = False
    allow_unrelated_source: bool = False


@dataclass(frozen=True, slots=True)
class ErasureRun:
    """What an erasure runs with: its stores, its folder, its clock and who it is."""

    source: S3Store
    targets: S3Store
    folder: Callable[[str], ReportDestination]  # a subfolder of the erasure's ("" itself)
    report_bucket: str | None  # the bucket the erasure's folder is in (None: local)
    report_prefix: str
    erasure_id: str
    clock: Callable[[], datetime]
    say: Callable[[str], None] = lambda _: None
    # Whether a named key may be erased through this door (a deployment: its scope).
    admits: Callable[[str], bool] = lambda _: True


@dataclass(slots=True)
class TargetErasure:
    """One target: what was listed before, planned, answered, and listed after."""

    copy: Copy
    object_lock: bool
    before: dict[str, KeyListing]
    plan: list[PlannedEntry]
    outcomes: list[tuple[OutcomeRecord, datetime]] = dataclasses.field(default_factory=list)
    after: dict[str, KeyListing] = dataclasses.field(default_factory=dict)


@dataclass(slots=True)
class ErasureResult:
    started_at: datetime
    keys: tuple[str, ...]
    source_after: dict[str, KeyListing]
    targets: list[TargetErasure]


def listed(
    run: ErasureRun, store: S3Store, copy: Copy, keys: Sequence[str], verb: str
) -> dict[str, KeyListing]:
    """The named keys' listings in one bucket, by named key."""
    started = run.clock()
    by_bucket_key = list_key_set(store, copy.bucket, [copy.bucket_key(k) for k in keys], run.clock)
    seconds = max((run.clock() - started).total_seconds(), 1e-3)
    run.say(f"{verb} {len(keys):,} keys in {copy.uri} ({len(keys) / seconds:,.0f} keys/s)")
    return {k: by_bucket_key[copy.bucket_key(k)] for k in keys}
