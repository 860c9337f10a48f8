"""A sealed receipt's bytes: any one byte changed fails `read_sealed`, naming why."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncpurge.erasure.receipt import (
    KeyInBucket,
    KeyReceipt,
    Listing,
    Mismatch,
    PurgedEntry,
    Receipt,
    Totals,
    Verdict,
    read_sealed,
    seal,
    sealed_bytes,
)
from tests.erasures import a_receipt as erasure_receipt

pytestmark = pytest.mark.unit

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def a_receipt(key: str = "subject/ café+1%.txt") -> Receipt:
    part = KeyInBucket(
        bucket="copy",
        role="target",
        bucket_key=f"data/{key}",
        verdict=Verdict.GONE,
        held_before=1,
        purged=[
            PurgedEntry(
                version_id="v1",
                kind="version",
                last_modified=AT,
                size=3,
                proof="vanished",
                deleted_at=AT,
            )
        ],
        listed_after=Listing(at=AT, request_id="R1"),
    )
    return erasure_receipt(
        [KeyReceipt(key=key, buckets=[part])],
        source=("src", "data/"),
        targets=(("copy", "data/"),),
        totals=Totals(keys=1, purged=1, retained=0, failed=0, not_found=0),
    )


BODY = sealed_bytes(seal(a_receipt()))


def test_a_sealed_receipt_reads_back_as_written() -> None:
    sealed = read_sealed(BODY, "receipt.json")

    assert sealed.receipt == a_receipt()
    # The digest is over the receipt's canonical JSON: `jq -cS .receipt | sha256sum` gives it.
    receipt = json.loads(BODY)["receipt"]
    canonical = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert sealed.digest.value == hashlib.sha256(canonical.encode()).hexdigest()


@given(at=st.integers(0, len(BODY) - 1), byte=st.integers(0, 255))
def test_any_one_byte_changed_fails(at: int, byte: int) -> None:
    if BODY[at] == byte:
        byte = (byte + 1) % 256
    changed = BODY[:at] + bytes([byte]) + BODY[at + 1 :]

    with pytest.raises(Mismatch):
        read_sealed(changed, "receipt.json")


def test_a_value_changed_names_the_digest() -> None:
    changed = BODY.replace(b'"heldBefore":1', b'"heldBefore":2')

    with pytest.raises(Mismatch, match="the digest does not match its content"):
        read_sealed(changed, "receipt.json")


def test_a_reformatted_receipt_names_the_canonical_form() -> None:
    reformatted = json.dumps(json.loads(BODY), indent=2, sort_keys=True).encode()

    with pytest.raises(Mismatch, match="not in the canonical form"):
        read_sealed(reformatted, "receipt.json")


@pytest.mark.parametrize(
    "body",
    [
        b'{"receipt": {"format": "\\ud800"}, "digest": {"value": ""}}\n',  # a lone surrogate
        b"[" * 100_000 + b"]" * 100_000,  # nesting past the parser's recursion
        b"[]",
    ],
)
def test_json_no_receipt_can_hold_is_a_mismatch_not_a_crash(body: bytes) -> None:
    with pytest.raises(Mismatch):
        read_sealed(body, "receipt.json")
