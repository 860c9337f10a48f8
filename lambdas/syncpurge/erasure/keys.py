"""The keys an erasure names, and where their listings start. Pure: no I/O.

Keys are compared byte for byte (invariant 4): no trimming, no Unicode normalisation, no
URL-decoding. A key S3 can't hold is refused before anything is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from syncpurge.data.s3shapes import XML_INVALID
from syncpurge.errors import InvalidInput

MAX_KEY_BYTES = 1024  # S3 User Guide, "Naming Amazon S3 objects"
LAST_CODE_POINT = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Copy:
    """One bucket of an erasure and its mapping: a named (relative) key `k` is `root + k`
    in it, as a DataSync location's Subdirectory maps keys."""

    bucket: str
    root: str = ""  # "" or ends with "/"

    def bucket_key(self, relative: str) -> str:
        return self.root + relative

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.root}"


def named_keys(keys: Iterable[str], origin: str) -> tuple[str, ...]:
    """The named keys, each once, in S3's order; `origin` names where a refused one came
    from (a flag, or a file and its line)."""
    unique: set[str] = set()
    for number, key in enumerate(keys, start=1):
        where = origin.format(line=number)
        if not key:
            raise InvalidInput(f"{where}: an empty key names nothing")
        try:
            size = len(key.encode("utf-8"))
        except UnicodeEncodeError:
            raise InvalidInput(f"{where}: {key!r} is not valid Unicode") from None
        if size > MAX_KEY_BYTES:
            raise InvalidInput(f"{where}: a key of {size} bytes (S3 keys are 1,024 at most)")
        unique.add(key)
    return tuple(sorted(unique, key=lambda k: k.encode("utf-8")))


def keys_file_lines(text: str, name: str) -> list[str]:
    """A keys file's keys: one per line, exactly as written; blank lines are skipped. A
    line ending in a carriage return is refused: the key would carry it, and a CRLF file
    would otherwise name keys no bucket holds, each 'erased' without anything deleted."""
    if text.startswith("\ufeff"):
        raise InvalidInput(
            f"{name} line 1: starts with a byte order mark (U+FEFF), which would be part of "
            "the first key: save the file as UTF-8 without a BOM"
        )
    keys = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.endswith("\r"):
            raise InvalidInput(
                f"{name} line {number}: ends in a carriage return (a CRLF file?): save it "
                "with LF line ends; a key that really ends in CR can be given with --key"
            )
        if line:
            keys.append(line)
    return keys


def start_marker(key: str) -> str | None:
    """A KeyMarker right before `key`: S3 lists the keys after it, so a listing from it
    starts at `key` (or at a key no one writes: one between this marker and `key`).

    The key's last character, less one, then the last code point: nothing but keys that
    begin so sort between it and the key. A marker XML 1.0 can't carry is cut before its
    first such character (S3 echoes the KeyMarker in its answer); one that would pass
    1,024 bytes, or a key whose last character can't be lowered, falls back to the key less
    its last character."""
    bad = XML_INVALID.search(key)
    if bad is not None:
        return key[: bad.start()] or None
    lowered = chr(ord(key[-1]) - 1) if ord(key[-1]) > 0 else ""
    marker = key[:-1] + lowered + LAST_CODE_POINT
    if not lowered or XML_INVALID.search(lowered) or len(marker.encode("utf-8")) > MAX_KEY_BYTES:
        return key[:-1] or None
    return marker
