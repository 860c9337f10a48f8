"""One run-id format for every door: `syncpurge reconcile`'s runs, the state machine's
executions (started by `syncpurge start`, the demo, a schedule or the console) and the
demo's. A run id names a run's report folder and its stored plan (--apply-plan RUN_ID), so
it sorts by start time and is a valid execution name: `20260102T030405Z-0a1b2c`."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def new_run_id(now: datetime) -> str:
    """A fresh run id for a run that starts `now` (UTC; a naive time is taken as UTC)."""
    return f"{_utc(now):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def execution_run_id(name: str, started: datetime) -> str:
    """The run id of a state machine execution: its name when a door named it as a run id
    (`syncpurge start`, the demo); else, for a name a schedule or the console gave, one made
    of its start time and its name's digest, the same at every step that reads it."""
    if RUN_ID.match(name):
        return name
    return f"{_utc(started):%Y%m%dT%H%M%SZ}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC) if when.tzinfo is not None else when
