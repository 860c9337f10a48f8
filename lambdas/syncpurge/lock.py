"""One CLI run per target at a time (DESIGN §5): a lock in the report destination.

It is created with a conditional write (a local exclusive create, or S3 PutObject with
If-None-Match: *), so two runs racing for it can't both win; `--break-lock` removes one a
killed run left behind.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from syncpurge.errors import AlreadyRunning
from syncpurge.s3store import S3Store


def lock_body(run_id: str) -> bytes:
    holder = {
        "runId": run_id,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "since": datetime.now(UTC).isoformat(),
    }
    return json.dumps(holder).encode()


def _refusal(where: str, held: bytes | None) -> AlreadyRunning:
    holder = held.decode(errors="replace") if held else "unknown"
    return AlreadyRunning(
        f"another run holds the lock {where} ({holder}): wait for it to finish, or, if it "
        "was killed, run again with --break-lock"
    )


@dataclass(frozen=True)
class LocalLock:
    path: Path

    def acquire(self, run_id: str, *, break_existing: bool = False) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if break_existing:
            self.path.unlink(missing_ok=True)
        try:
            handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise _refusal(str(self.path), self.path.read_bytes()) from None
        with os.fdopen(handle, "wb") as lock:
            lock.write(lock_body(run_id))

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class S3Lock:
    store: S3Store
    bucket: str
    key: str

    def acquire(self, run_id: str, *, break_existing: bool = False) -> None:
        if break_existing:
            self.store.remove_object(self.bucket, self.key)
        if not self.store.put_bytes_if_absent(self.bucket, self.key, lock_body(run_id)):
            held = self.store.get_bytes_or_none(self.bucket, self.key)
            raise _refusal(f"s3://{self.bucket}/{self.key}", held)

    def release(self) -> None:
        self.store.remove_object(self.bucket, self.key)
