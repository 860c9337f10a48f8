"""Paths and IAM helpers every construct shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from syncpurge_infra.config import (
    FUNCTION_SIZING,
)
from syncpurge_infra.constructs.nag import excuse_wildcards, is_wildcard

REPO = Path(__file__).resolve().parents[3]
DEFINITION = REPO / "workflows" / "syncpurge.asl.json"
LAMBDA_CODE = REPO / "lambdas"
STEPS = tuple(FUNCTION_SIZING)


def s3_arn(scope: Construct, bucket: str) -> str:
    return f"arn:{Stack.of(scope).partition}:s3:::{bucket}"


def allow(
    role: iam.IRole,
    actions: list[str],
    resources: list[str],
    *,
    why: str | None = None,
    conditions: dict[str, Any] | None = None,
) -> None:
    """One Allow statement on `role`: these actions on exactly these resources. A wildcard
    in either needs `why`: it becomes the cdk-nag suppression of that wildcard alone."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions)
    )
    if any(is_wildcard(text) for text in [*actions, *resources]):
        if why is None:
            raise ValueError(f"{role.node.path}: say why {actions} on {resources} need a wildcard")
        excuse_wildcards(role, why, resources=resources, actions=actions)


def deny(role: iam.IRole, actions: list[str], resources: list[str]) -> None:
    """One Deny statement on `role`: whatever else it is allowed, never these."""
    role.add_to_principal_policy(
        iam.PolicyStatement(effect=iam.Effect.DENY, actions=actions, resources=resources)
    )
