"""Where a run keeps its files, its workspace and its report: in S3 (`S3Store`), or in a
local folder (`FolderStore`). Both hold them under the same bucket and key names, so a
run's workspace has one layout wherever it lies (docs/design.md §14)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

PARTIAL_SUFFIX = ".partial"


class RunFiles(Protocol):
    """The calls a run's steps make on its workspace and its report."""

    def put_bytes(self, bucket: str, key: str, body: bytes, content_type: str) -> None: ...

    def get_bytes(self, bucket: str, key: str) -> bytes: ...

    def get_bytes_or_none(self, bucket: str, key: str) -> bytes | None: ...

    def list_keys(self, bucket: str, prefix: str) -> list[str]: ...

    def shown(self, bucket: str, key: str) -> str:
        """Where an object or a folder of these files is, as a person finds it."""
        ...


class FolderStore:
    """Buckets as folders: object `key` of `bucket` is the file `root/bucket/key`.

    Writes are whole or absent (`write_whole`). Keys list in S3's order, by their
    UTF-8 bytes. A key that would name a file outside its bucket's folder is refused."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, bucket: str) -> Path:
        if bucket in ("", ".", "..") or "/" in bucket:
            raise ValueError(f"not a bucket of a local folder store: {bucket!r}")
        return (self.root / bucket).resolve()

    def _path(self, bucket: str, key: str) -> Path:
        folder = self._folder(bucket)
        path = (folder / key).resolve()
        # 'k' and 'k/' would be one file, and '.' the bucket's folder: S3 keeps them apart
        if key.endswith("/") or path == folder or not path.is_relative_to(folder):
            raise ValueError(f"not a key of a local folder store: {bucket!r}, {key!r}")
        return path

    def put_bytes(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        write_whole(self._path(bucket, key), body)

    def shown(self, bucket: str, key: str) -> str:
        return str(self._folder(bucket) / key) + ("/" if key.endswith("/") else "")

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self._path(bucket, key).read_bytes()

    def get_bytes_or_none(self, bucket: str, key: str) -> bytes | None:
        try:
            return self.get_bytes(bucket, key)
        except (FileNotFoundError, IsADirectoryError):  # 'a' when only 'a/x' is: no key
            return None

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Keys under `prefix`, in key order (files being written aside, and links, are no
        keys)."""
        folder = self._folder(bucket)
        # Only the folder the prefix names lies under it: list no other.
        start = (folder / prefix.rpartition("/")[0]).resolve() if "/" in prefix else folder
        if not start.is_relative_to(folder) or not start.is_dir():
            return []
        keys = []
        for path in start.rglob("*"):
            if path.is_symlink() or not path.is_file() or _written_aside(path.name):
                continue
            key = path.relative_to(folder).as_posix()
            if key.startswith(prefix):
                keys.append(key)
        return sorted(keys, key=lambda key: key.encode())


def write_whole(path: Path, body: bytes) -> None:
    """Write the file whole or not at all, as S3's PUT is: the body goes to a hidden file
    of its own beside it (two writers never share one), then is renamed over it. A process
    killed mid-write leaves no half a journal line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    partial.write_bytes(body)
    os.replace(partial, path)


def _written_aside(name: str) -> bool:
    return name.startswith(".") and name.endswith(PARTIAL_SUFFIX)
