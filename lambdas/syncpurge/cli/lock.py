"""One CLI run per target at a time (docs/design.md §5): a lock in the target bucket itself.

Every run on a target shares the target, whatever its `--report` says, and syncpurge never
writes to the source; so the lock lives at `LOCK_KEY` in the target, outside every scope.
The target is versioned (preflight refuses it otherwise), and the lock uses that: each run
writes a version of its own, then lists the key's versions, and the oldest surviving one
holds the lock (S3 lists a key's versions in the order they were stored, newest first).
A run that isn't the oldest deletes its own version and refuses. So two racing runs can't
both win, a delete marker (DataSync's PreserveDeletedFiles=REMOVE, say) can't free it, no
conditional write is needed, and a run releases only its own version, by VersionId: after a
`--break-lock`, the run whose lock was broken can't free the new holder's.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

from syncpurge.core.policy import LOCK_PREFIX
from syncpurge.data.s3store import S3Store
from syncpurge.errors import AlreadyRunning, PreflightRefused

LOCK_KEY = f"{LOCK_PREFIX}cli-run.lock"


def lock_body(run_id: str) -> bytes:
    holder = {
        "runId": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": datetime.now(UTC).isoformat(),
    }
    return json.dumps(holder).encode()


@dataclass
class TargetLock:
    store: S3Store
    bucket: str  # the target
    source_bucket: str
    key: str = LOCK_KEY
    version_id: str | None = field(default=None, init=False)

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def acquire(self, run_id: str, *, break_existing: bool = False) -> None:
        if self.bucket == self.source_bucket:
            raise PreflightRefused("source and target are the same bucket: nothing is written")
        status, _ = self.store.versioning(self.bucket)
        if status != "Enabled":
            raise PreflightRefused(
                f"target bucket {self.bucket!r} is not versioned (versioning {status}): "
                "syncpurge works on versioned buckets only"
            )
        if break_existing:
            for version_id in self.store.versions_of_key(self.bucket, self.key):
                self._delete(version_id)
        mine = self.store.put_version(self.bucket, self.key, lock_body(run_id))
        holders = self.store.versions_of_key(self.bucket, self.key, markers=False)
        if holders and holders[-1] == mine:
            self.version_id = mine
            return
        self._delete(mine)
        held = self.store.get_version_bytes(self.bucket, self.key, holders[-1]) if holders else None
        holder = held.decode(errors="replace") if held else "unknown"
        raise AlreadyRunning(
            f"another run holds the target's lock {self.where} ({holder}): wait for it to "
            "finish, or, if it was killed, run again with --break-lock"
        )

    def release(self) -> None:
        """Delete this run's own lock version (never another run's)."""
        if self.version_id is not None:
            mine, self.version_id = self.version_id, None
            self._delete(mine)

    def _delete(self, version_id: str) -> None:
        # Only ever the target's lock key, by VersionId: a permanent delete, no marker left.
        self.store.remove_version(self.bucket, self.key, version_id)
