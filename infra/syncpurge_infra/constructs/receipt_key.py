"""The key that signs erasure receipts: asymmetric (ECC_NIST_P256, SIGN_VERIFY), used by
the Erase function alone to sign, and by anyone the account lets verify (docs/erasure.md)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from syncpurge_infra.config import RECEIPT_KEY_ENV
from syncpurge_infra.constructs.common import allow


class ReceiptKey(Construct):
    def __init__(
        self, scope: Construct, id: str, *, signer: lambda_.Function, role: iam.IRole
    ) -> None:
        super().__init__(scope, id)
        # Kept when the stack goes: receipts signed with it must stay verifiable.
        self.key = kms.Key(
            self,
            "Key",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            description="syncpurge: signs the digest of every erasure receipt",
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Sign each receipt; Verify one before a follow-up acts on it.
        allow(role, ["kms:Sign", "kms:Verify", "kms:DescribeKey"], [self.key.key_arn])
        signer.add_environment(RECEIPT_KEY_ENV, self.key.key_arn)
