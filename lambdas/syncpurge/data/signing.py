"""A receipt's signature: KMS Sign and Verify with an asymmetric key (SIGN_VERIFY).

The message is the receipt's SHA-256 digest, sent as MessageType=DIGEST (AWS KMS API
reference, Sign: "the Message is a message digest", up to 4,096 bytes otherwise). moto
signs and verifies it as a RAW message (its `verify` says "MessageType DIGEST is not yet
implemented"): a signature it makes verifies only against moto, as one real KMS makes
verifies only against KMS, so a receipt is always verified through the KMS that signed it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from syncpurge.data.bucket_facts import error_code
from syncpurge.errors import InvalidInput

# Strongest first among what an asymmetric SIGN_VERIFY key offers (its KeySpec decides).
PREFERRED_ALGORITHMS = ("ECDSA_SHA_256", "RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256")


@dataclass(frozen=True, slots=True)
class KmsSignature:
    key_arn: str
    algorithm: str
    signature: bytes


class KmsSigning:
    """Sign and verify a digest with one KMS key, on a KMS client handed in."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def sign(self, key_id: str, digest: bytes) -> KmsSignature:
        algorithm = self.algorithm_of(key_id)
        answer = self.client.sign(
            KeyId=key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=algorithm
        )
        return KmsSignature(str(answer["KeyId"]), algorithm, bytes(answer["Signature"]))

    def verifies(self, key_id: str, digest: bytes, signature: bytes, algorithm: str) -> bool:
        """Whether `signature` is `key_id`'s over `digest` (KMS says an invalid one with
        KMSInvalidSignatureException)."""
        try:
            answer = self.client.verify(
                KeyId=key_id,
                Message=digest,
                MessageType="DIGEST",
                Signature=signature,
                SigningAlgorithm=algorithm,
            )
        except ClientError as err:
            if error_code(err) == "KMSInvalidSignatureException":
                return False
            raise
        return bool(answer.get("SignatureValid"))

    def algorithm_of(self, key_id: str) -> str:
        offered = self.client.describe_key(KeyId=key_id)["KeyMetadata"].get("SigningAlgorithms")
        for algorithm in PREFERRED_ALGORITHMS:
            if algorithm in (offered or ()):
                return algorithm
        raise InvalidInput(
            f"KMS key {key_id!r} can't sign (its KeyUsage must be SIGN_VERIFY, with an RSA or "
            "ECC KeySpec)"
        )


def kms_signer(client: Any, key_id: str) -> Callable[[bytes], tuple[str, str, bytes]]:
    """Signs a digest with `key_id`: (the key's ARN, the algorithm, the signature)."""
    signing = KmsSigning(client)

    def sign(digest: bytes) -> tuple[str, str, bytes]:
        signed = signing.sign(key_id, digest)
        return signed.key_arn, signed.algorithm, signed.signature

    return sign


def kms_verifier(client: Any, key_id: str) -> Callable[[bytes, Any], bool]:
    """Whether a receipt's signature (its algorithm and base64 value) is `key_id`'s over a
    digest: KMS Verify, whatever key the signature says it is of."""
    signing = KmsSigning(client)

    def verifies(digest: bytes, signature: Any) -> bool:
        try:
            raw = base64.b64decode(signature.value, validate=True)
        except binascii.Error:
            return False
        return signing.verifies(key_id, digest, raw, signature.algorithm)

    return verifies
