"""The erasure receipt (docs/design.md §15): what an erasure asked, what each bucket held of
each key after it, and what it purged with which proof; sealed by a digest over canonical
JSON (and, where a KMS key is given, its signature). Pure: no I/O.

Canonical JSON here is RFC 8785 (JCS) for the values a receipt holds (strings, integers,
booleans, null: no floats): members sorted by name, no whitespace, UTF-8, the shortest
escapes. The file is written in that form too, so any byte changed in it fails `verify`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

FORMAT = "syncpurge-erasure-receipt/1"
DIGEST_ALGORITHM = "SHA-256"


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Verdict(StrEnum):
    """A key's state in one bucket, from the listing taken after the erasure."""

    GONE = "gone"  # no entry of the key is left
    RETAINED = "retained"  # what is left, Object Lock or a legal hold keeps, until a date
    FAILED = "failed"  # something is left that nothing retains: the erasure did not finish
    HELD_BY_SOURCE = "held-by-source"  # a re-check found the key back in the source


class EntryRef(Wire):
    version_id: str
    kind: str  # "version" | "delete-marker"
    last_modified: datetime
    size: int | None = None


class PurgedEntry(EntryRef):
    proof: str | None
    deleted_at: datetime  # when S3's DeleteObjects answer came, on the erasure's clock


class LeftEntry(EntryRef):
    """An entry the listing after the erasure still shows, and what keeps it."""

    outcome: str  # retained | failed | skipped
    reason: str | None = None
    lock_mode: str | None = None  # GOVERNANCE | COMPLIANCE
    retain_until: datetime | None = None
    legal_hold: bool = False


class Listing(Wire):
    """The listing that answered for a key in a bucket."""

    at: datetime
    request_id: str | None


class KeyInBucket(Wire):
    bucket: str
    role: str  # "source" | "target"
    bucket_key: str
    verdict: Verdict
    held_before: int  # entries the key had in this bucket when the erasure listed it
    purged: list[PurgedEntry] = Field(default_factory=list)
    left: list[LeftEntry] = Field(default_factory=list)
    listed_after: Listing


class KeyReceipt(Wire):
    key: str  # as named: relative to each bucket's root
    buckets: list[KeyInBucket]


class BucketMapping(Wire):
    bucket: str
    root: str


class ErasureInputs(Wire):
    keys: list[str]  # every key erased (a prefix's: those the targets held)
    keys_file: str | None = None
    prefix: str | None = None
    source: BucketMapping
    targets: list[BucketMapping]
    max_purge: int
    force: bool
    bypass_governance: bool
    allow_unrelated_source: bool = False


class Totals(Wire):
    keys: int
    purged: int
    retained: int
    failed: int
    not_found: int  # named keys no bucket held any entry of (check the spelling)


class Receipt(Wire):
    format: str = FORMAT
    erasure_id: str
    started_at: datetime
    finished_at: datetime
    tool: str  # "syncpurge <version>"
    caller: str  # the ARN the calls were made as
    inputs: ErasureInputs
    totals: Totals
    keys: list[KeyReceipt]


class Digest(Wire):
    algorithm: str = DIGEST_ALGORITHM
    value: str  # hex


class Signature(Wire):
    key_id: str  # the KMS key's ARN
    algorithm: str  # e.g. ECDSA_SHA_256
    value: str  # base64


class SealedReceipt(Wire):
    """receipt.json: the receipt, its digest, and its signature where there is one."""

    receipt: Receipt
    digest: Digest
    signature: Signature | None = None


def canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(document: Wire) -> bytes:
    """SHA-256 over a receipt's (or a follow-up's) canonical JSON."""
    return hashlib.sha256(canonical(document.model_dump(mode="json", by_alias=True))).digest()


def seal(receipt: Receipt, signature: Signature | None = None) -> SealedReceipt:
    return SealedReceipt(
        receipt=receipt, digest=Digest(value=digest_of(receipt).hex()), signature=signature
    )


def sealed_bytes(sealed: Wire) -> bytes:
    """A sealed document's file: receipt.json (or a follow-up) in canonical form, and a
    newline."""
    return canonical(sealed.model_dump(mode="json", by_alias=True, exclude_none=False)) + b"\n"


def signature_value(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class Mismatch(Exception):
    """What in a receipt file does not match: one line, naming it."""


def read_sealed(body: bytes, name: str) -> SealedReceipt:
    """A receipt file, checked: JSON, of this format, in the canonical form it was written
    in, with the digest of what it holds. Raises Mismatch naming what doesn't match."""
    try:
        doc = json.loads(body)
        canonical(doc)  # a lone surrogate (\ud800) parses, and can't be UTF-8
    except (UnicodeError, json.JSONDecodeError, RecursionError) as err:
        raise Mismatch(f"{name} is not JSON a receipt can hold ({type(err).__name__})") from None
    try:
        sealed = SealedReceipt.model_validate(doc)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Mismatch(f"{name} is not a syncpurge receipt ({where}: {first['msg']})") from None
    if sealed.receipt.format != FORMAT:
        raise Mismatch(f"{name} has format {sealed.receipt.format!r}; this tool reads {FORMAT!r}")
    # Over the receipt as the file holds it (`jq -cS .receipt` gives the same bytes for
    # ASCII keys), so the check does not rest on this tool's own reading of it.
    actual = hashlib.sha256(canonical(doc["receipt"])).hexdigest()
    if sealed.digest.algorithm != DIGEST_ALGORITHM or sealed.digest.value != actual:
        raise Mismatch(
            f"{name}: the digest does not match its content (recorded "
            f"{sealed.digest.value[:16]}…, computed {actual[:16]}…): the receipt was changed "
            "after it was written"
        )
    if canonical(doc) + b"\n" != body:
        raise Mismatch(
            f"{name}: the file is not in the canonical form it was written in (a byte outside "
            "the receipt's values was changed, or it was re-formatted)"
        )
    return sealed
