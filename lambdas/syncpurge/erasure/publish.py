"""An erasure's receipt, written: assembled, sealed (digest, and a signature where a signer
is given), as receipt.json and receipt.html in the erasure's folder. Both doors (the CLI,
the state machine's Erase step) finish an erasure here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from syncpurge.erasure.assemble import LockReader, assemble
from syncpurge.erasure.html import render
from syncpurge.erasure.receipt import (
    Receipt,
    SealedReceipt,
    Signature,
    digest_of,
    seal,
    sealed_bytes,
    signature_value,
)
from syncpurge.erasure.run import ErasureRequest, ErasureResult
from syncpurge.phases.report import ReportDestination

# Signs a receipt's digest: KMS (syncpurge.data.signing) on a deployment or with --sign-key.
Signer = Callable[[bytes], Signature]

RECEIPT_FILE = "receipt.json"
RECEIPT_PAGE = "receipt.html"


def publish(
    request: ErasureRequest,
    result: ErasureResult,
    *,
    folder: ReportDestination,
    erasure_id: str,
    finished_at: datetime,
    tool: str,
    caller: str,
    lock_of: LockReader,
    signer: Signer | None,
) -> SealedReceipt:
    receipt = assemble(
        request,
        result,
        erasure_id=erasure_id,
        finished_at=finished_at,
        tool=tool,
        caller=caller,
        lock_of=lock_of,
    )
    return write_receipt(folder, receipt, signer)


class ReceiptUnsigned(Exception):
    """Signing failed after the purge: the receipt was written unsigned (the message says why)."""


def write_receipt(
    folder: ReportDestination, receipt: Receipt, signer: Signer | None
) -> SealedReceipt:
    """receipt.json and receipt.html. Deletes are done by now: a signature that fails still
    leaves the receipt, unsigned, and raises ReceiptUnsigned after writing it."""
    failure = None
    signature = None
    if signer is not None:
        try:
            signature = signer(digest_of(receipt))
        except Exception as err:  # reported below, after the receipt is safe
            failure = err
    sealed = seal(receipt, signature)
    folder.write(RECEIPT_FILE, sealed_bytes(sealed), "application/json")
    folder.write(RECEIPT_PAGE, render(sealed).encode("utf-8"), "text/html; charset=utf-8")
    if failure is not None:
        raise ReceiptUnsigned(
            f"the receipt {folder.location}{RECEIPT_FILE} was written unsigned: signing its "
            f"digest failed ({type(failure).__name__}: {failure})"
        ) from failure
    return sealed


def signature_by(sign: Callable[[bytes], tuple[str, str, bytes]]) -> Signer:
    """A signer of receipts from a digest signer (`syncpurge.data.signing.kms_signer`)."""

    def signer(digest: bytes) -> Signature:
        key_arn, algorithm, raw = sign(digest)
        return Signature(key_id=key_arn, algorithm=algorithm, value=signature_value(raw))

    return signer
