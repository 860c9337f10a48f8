"""What each step calls on the source and the target bucket, as IAM actions: one table that
gives both the steps' own role policies and the bucket policy another account adds when
the source or the target is its bucket (issue 19). Never a write on the source."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from syncpurge_infra.config import DeploymentConfig
from syncpurge_infra.constructs.common import s3_arn


@dataclass(frozen=True)
class BucketGrant:
    bucket_actions: tuple[str, ...] = ()  # on the bucket's ARN
    object_actions: tuple[str, ...] = ()  # on its objects, <bucket ARN>/*
    governance_bypass: bool = False  # s3:BypassGovernanceRetention when the deployment asks
    # A deleting step's grants are bound to the deployment's `prefixes` (docs/design.md §14): its
    # object actions only on the keys under them, and these listings of one key at a time
    # only with an s3:prefix under them. Without `prefixes`, the whole bucket.
    key_listings: tuple[str, ...] = ()
    in_prefixes: bool = False

    def object_actions_for(self, config: DeploymentConfig) -> list[str]:
        extra = ["s3:BypassGovernanceRetention"] if self.governance_bypass else []
        return [*self.object_actions, *(extra if config.bypass_governance else [])]


# HeadBucket is s3:ListBucket; ListObjectVersions s3:ListBucketVersions; HeadObject on a
# version s3:GetObjectVersion (S3 API reference, each operation's Permissions).
_PREFLIGHT = ("s3:ListBucket", "s3:GetBucketVersioning", "s3:ListBucketVersions")
_LOCATION = ("s3:GetBucketLocation",)  # Prepare's fallback when HeadBucket names no Region
_READ_VERSIONS = ("s3:GetObject", "s3:GetObjectVersion")  # Diff's HeadObject proofs

BUCKET_GRANTS: dict[str, dict[str, BucketGrant]] = {
    "source": {
        "prepare": BucketGrant((*_PREFLIGHT, "s3:GetEncryptionConfiguration", *_LOCATION)),
        "plan": BucketGrant(("s3:ListBucketVersions",)),
        "diff": BucketGrant(("s3:ListBucketVersions",), _READ_VERSIONS),
        # Verify before destroy: the source is listed again before each batch.
        "purge": BucketGrant(("s3:ListBucketVersions",)),
        # The event path (events=on): the batch preflight's checks of each bucket (its
        # Region and owner, versioning, one page of versions), a key's listing and proofs.
        "events": BucketGrant(_PREFLIGHT, _READ_VERSIONS),
        # Erase: the preflight's checks, the named keys listed before and after, and
        # verify before destroy.
        "erase": BucketGrant(_PREFLIGHT),
    },
    "target": {
        "prepare": BucketGrant(
            (
                *_PREFLIGHT,
                "s3:GetEncryptionConfiguration",
                "s3:GetBucketObjectLockConfiguration",
                "s3:GetLifecycleConfiguration",
                *_LOCATION,
            )
        ),
        "plan": BucketGrant(("s3:ListBucketVersions",)),
        "diff": BucketGrant(("s3:ListBucketVersions",), _READ_VERSIONS),
        # A current entry planned apart from its key goes only if nothing else of it is left.
        # It lists the target by the key's name (Prefix=<key>).
        "purge": BucketGrant(
            object_actions=("s3:DeleteObjectVersion",),
            governance_bypass=True,
            key_listings=("s3:ListBucketVersions",),
            in_prefixes=True,
        ),
        # Its preflight's one page of versions names no Prefix, so its listings can't be
        # bound to the prefixes; its deletes and reads are.
        "events": BucketGrant(
            _PREFLIGHT,
            (*_READ_VERSIONS, "s3:DeleteObjectVersion"),
            governance_bypass=True,
            in_prefixes=True,
        ),
        # Erase: the preflight's checks (Object Lock, lifecycle), the named keys listed
        # before and after, their deletes, and a retained version's Object Lock (HeadObject).
        "erase": BucketGrant(
            (
                *_PREFLIGHT,
                "s3:GetBucketObjectLockConfiguration",
                "s3:GetLifecycleConfiguration",
            ),
            ("s3:GetObjectVersion", "s3:DeleteObjectVersion"),
            governance_bypass=True,
            in_prefixes=True,
        ),
    },
}


@dataclass(frozen=True)
class StepGrant:
    """One statement of BUCKET_GRANTS: a step's actions on a bucket or on its objects."""

    step: str
    on: str  # "Bucket", "Keys" (listings of one key) or "Objects"
    actions: list[str]
    resources: list[str]
    conditions: dict[str, Any] | None = None


def step_grants(scope: Construct, side: str, config: DeploymentConfig) -> list[StepGrant]:
    """BUCKET_GRANTS on the `side` bucket, a statement per step and kind of resource (the
    event path's only when the deployment has it)."""
    bucket = config.source_bucket if side == "source" else config.target_bucket
    arn = s3_arn(scope, bucket)
    grants = []
    for step, grant in BUCKET_GRANTS[side].items():
        if step == "events" and config.events != "on":
            continue
        keys = key_patterns(config) if grant.in_prefixes else None
        listings = list(grant.key_listings)
        bucket_actions = [*grant.bucket_actions, *(listings if keys is None else [])]
        if bucket_actions:
            grants.append(StepGrant(step, "Bucket", bucket_actions, [arn]))
        if listings and keys is not None:
            prefix = {"StringLike": {"s3:prefix": keys}}
            grants.append(StepGrant(step, "Keys", listings, [arn], prefix))
        object_actions = grant.object_actions_for(config)
        if object_actions:
            objects = [f"{arn}/{k}" for k in keys or ["*"]]
            grants.append(StepGrant(step, "Objects", object_actions, objects))
    return grants


def key_patterns(config: DeploymentConfig) -> list[str] | None:
    """The target keys under the deployment's prefixes, as IAM patterns (None: every key).
    A key is <the task's target Subdirectory><prefix>…; a given task's Subdirectory is
    unknown at synth, so there any key holding the prefix after some Subdirectory."""
    if not config.prefixes:
        return None
    root = config.target_root
    return [f"{root}{p}*" if root is not None else f"*{p}*" for p in config.prefixes]


def bucket_policy(
    scope: Construct,
    side: str,
    config: DeploymentConfig,
    roles: dict[str, iam.IRole],
) -> iam.PolicyDocument:
    """The statements the `side` bucket's policy needs when that bucket is in another
    account: each step's role, by ARN, allowed exactly its BUCKET_GRANTS on that bucket."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid=f"SyncPurge{grant.step.capitalize()}{grant.on}",
                principals=[iam.ArnPrincipal(roles[grant.step].role_arn)],
                actions=grant.actions,
                resources=grant.resources,
                conditions=grant.conditions,
            )
            for grant in step_grants(scope, side, config)
        ]
    )


def policy_json(scope: Construct, document: iam.PolicyDocument) -> str:
    """The document as one JSON string (role ARNs resolved by CloudFormation)."""
    return Stack.of(scope).to_json_string(document.to_json())
