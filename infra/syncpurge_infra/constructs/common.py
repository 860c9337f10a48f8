"""Paths and IAM helpers every construct shares."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from syncpurge_infra.config import (
    FUNCTION_SIZING,
)

REPO = Path(__file__).resolve().parents[3]
DEFINITION = REPO / "workflows" / "syncpurge.asl.json"
LAMBDA_CODE = REPO / "lambdas"
STEPS = tuple(FUNCTION_SIZING)


def s3_arn(scope: Construct, bucket: str) -> str:
    return f"arn:{Stack.of(scope).partition}:s3:::{bucket}"


def allow(role: iam.Role, actions: list[str], resources: list[str]) -> None:
    """One Allow statement on `role`: these actions on exactly these resources."""
    role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
