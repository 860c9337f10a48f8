"""`syncpurge receipt verify`: the digest, the canonical form and the KMS signature (moto's
KMS signs and verifies for real: `syncpurge.data.signing` names what it does not do)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from syncpurge.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main
from syncpurge.erasure.receipt import SealedReceipt, canonical, seal, sealed_bytes
from tests.erasures import buckets, erase_flags, the_receipt

pytestmark = pytest.mark.integration


def signing_key() -> str:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")
    return str(key["KeyMetadata"]["Arn"])


def signed_receipt(s3: Any, tmp_path: Path, key: str) -> Path:
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="copy", Key="secret.txt", Body=b"x")
    flags = erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=("secret.txt",))
    assert main([*flags, "--sign-key", key]) == EXIT_OK
    return the_receipt(tmp_path)[0]


def verify(path: Path, *extra: str) -> list[str]:
    return ["receipt", "verify", str(path), "--region", "us-east-1", *extra]


def test_a_signed_receipt_verifies_against_its_key(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = signing_key()
    path = signed_receipt(s3, tmp_path, key)

    assert main(verify(path, "--key", key)) == EXIT_OK
    assert f"signature valid: KMS key {key}" in capsys.readouterr().err
    assert json.loads(path.read_bytes())["signature"]["algorithm"] == "ECDSA_SHA_256"


def test_a_receipt_signed_by_another_key_fails(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trusted, other = signing_key(), signing_key()
    path = signed_receipt(s3, tmp_path, other)

    assert main(verify(path, "--key", trusted)) == EXIT_FAILED
    assert f"MISMATCH: the signature is not KMS key {trusted}'s" in capsys.readouterr().err


def test_a_signature_moved_onto_another_key_fails(s3: Any, tmp_path: Path) -> None:
    signer, claimed = signing_key(), signing_key()
    path = signed_receipt(s3, tmp_path, signer)
    doc = json.loads(path.read_bytes())
    doc["signature"]["keyId"] = claimed
    path.write_bytes(canonical(doc) + b"\n")  # still canonical, digest untouched

    assert main(verify(path)) == EXIT_FAILED


def test_one_byte_changed_fails_before_the_signature_is_asked(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = signing_key()
    path = signed_receipt(s3, tmp_path, key)
    body = path.read_bytes()
    at = body.index(b"secret.txt")
    path.write_bytes(body[:at] + b"S" + body[at + 1 :])

    assert main(verify(path, "--key", key)) == EXIT_FAILED
    assert "MISMATCH" in capsys.readouterr().err


def test_an_unsigned_receipt_passes_only_when_unsigned_is_accepted(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    buckets(s3, "src", "copy")
    assert main(erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=("k",))) == EXIT_OK
    path = the_receipt(tmp_path)[0]

    assert main(verify(path)) == EXIT_FAILED
    assert "the receipt is not signed" in capsys.readouterr().err
    assert main(verify(path, "--key", signing_key())) == EXIT_FAILED
    assert main(verify(path, "--unsigned-ok")) == EXIT_OK


def test_a_signed_receipt_without_a_key_to_trust_fails(s3: Any, tmp_path: Path) -> None:
    # Anyone can sign an edit with a key of their own: the key must come from elsewhere.
    path = signed_receipt(s3, tmp_path, signing_key())

    assert main(verify(path)) == EXIT_FAILED


def test_the_check_refuses_a_signed_receipt_whose_signature_no_longer_matches(
    s3: Any, tmp_path: Path
) -> None:
    # An edit that hides a key coming back, re-sealed with a fresh digest, keeps the old
    # signature: the check refuses it before believing its keys.
    path = signed_receipt(s3, tmp_path, signing_key())
    doc = json.loads(path.read_bytes())
    doc["receipt"]["totals"]["purged"] = 0
    resealed = seal(
        SealedReceipt.model_validate(doc).receipt, SealedReceipt.model_validate(doc).signature
    )
    path.write_bytes(sealed_bytes(resealed))

    assert main(["erase", "--check", str(path), "--region", "us-east-1"]) == EXIT_INVALID
