"""The bucket-policy statements the stack outputs for a source or target in another account
(issue 19), tested as documents: LocalStack and moto enforce no bucket policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from syncpurge_infra.constructs.bucket_grants import BUCKET_GRANTS
from tests.infra.conftest import MUTATING, Synthesized, as_list, statements

pytestmark = pytest.mark.infra

ACCOUNT = "123456789012"


def resolve(value: Any, roles: dict[str, str]) -> Any:
    """A CloudFormation value as the deployed stack states it: role ARNs by logical id."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolve(part, roles)) for part in parts)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return f"arn:aws:iam::{ACCOUNT}:role/{roles[logical_id]}"
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    assert isinstance(value, str), value
    return value


def role_ids(synthesized: Synthesized) -> dict[str, str]:
    """logical id -> the step whose function's role it is."""
    roles = synthesized.resources("AWS::IAM::Role")
    steps = {}
    for logical_id in roles:
        for step in BUCKET_GRANTS["target"]:
            if logical_id.startswith(f"Functions{step.capitalize()}Role"):
                steps[logical_id] = step
    has_events = any(r.startswith("FunctionsEventsRole") for r in roles)
    assert set(steps.values()) == set(BUCKET_GRANTS["target"]) - (
        set() if has_events else {"events"}
    )
    return steps


def policy(synthesized: Synthesized, side: str) -> dict[str, Any]:
    output = synthesized.json["Outputs"][f"{side.capitalize()}BucketPolicy"]["Value"]
    by_name = {logical_id: logical_id for logical_id in role_ids(synthesized)}
    document: dict[str, Any] = json.loads(resolve(output, by_name))
    return document


@pytest.mark.parametrize("side", ["source", "target"])
def test_each_role_is_granted_on_the_bucket_exactly_what_its_own_policy_allows_there(
    variant: Synthesized, side: str
) -> None:
    # Given the statements for a bucket in another account, and the roles' own policies
    document = policy(variant, side)
    steps = role_ids(variant)
    bucket = "corp-src" if side == "source" else "corp-dst"
    arn = f"arn:aws:s3:::{bucket}"
    granted: dict[tuple[str, str, str], set[str]] = {}
    for statement in document["Statement"]:
        (principal,) = as_list(statement["Principal"]["AWS"])
        step = steps[principal.rsplit("/", 1)[-1]]
        condition = json.dumps(statement.get("Condition"), sort_keys=True)
        for resource in as_list(statement["Resource"]):
            assert resource == arn or resource.startswith(f"{arn}/")
            granted.setdefault((step, resource, condition), set()).update(
                as_list(statement["Action"])
            )
    own: dict[tuple[str, str, str], set[str]] = {}
    for logical_id, statement in statements(variant):
        step = next((s for r, s in steps.items() if logical_id.startswith(r[:-8])), None)
        condition = json.dumps(statement.get("Condition"), sort_keys=True)
        for resource in as_list(statement.get("Resource")):
            if step and f":::{bucket}" in json.dumps(resource):
                key = (step, resolve(resource, {}), condition)
                own.setdefault(key, set()).update(as_list(statement["Action"]))

    # Then the bucket policy grants each role exactly what the role itself may do there
    assert granted == own
    assert document["Version"] == "2012-10-17"


def test_the_source_policy_never_writes_and_only_the_purging_roles_delete_target_versions(
    variant: Synthesized,
) -> None:
    source = [a for s in policy(variant, "source")["Statement"] for a in as_list(s["Action"])]
    assert source
    assert [a for a in source if MUTATING.match(a)] == []
    steps = role_ids(variant)
    deleting = [
        (steps[as_list(s["Principal"]["AWS"])[0].rsplit("/", 1)[-1]], a)
        for s in policy(variant, "target")["Statement"]
        for a in as_list(s["Action"])
        if a.startswith("s3:Delete")
    ]
    # Purge and Erase, and the event path's consumer when the deployment has it
    assert sorted(deleting) == [("erase", "s3:DeleteObjectVersion")] + [
        ("events", "s3:DeleteObjectVersion")
    ] * ("events" in steps.values()) + [("purge", "s3:DeleteObjectVersion")]


@pytest.mark.parametrize("side", ["source", "target"])
def test_the_statements_validate_as_a_bucket_policy(
    variant: Synthesized, side: str, tmp_path: Path
) -> None:
    # cfn-lint checks a BucketPolicy's document against the policy grammar and the S3
    # actions it knows; a template holding exactly the output's document
    bucket = "corp-src" if side == "source" else "corp-dst"
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Policy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {"Bucket": bucket, "PolicyDocument": policy(variant, side)},
            }
        },
    }
    path = tmp_path / "bucket-policy.json"
    path.write_text(json.dumps(template))

    assert [str(m) for m in lint_file(path, config=ManualArgs())] == []
    # and the check has teeth: one misspelled action is caught (W3037)
    statement = template["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"][0]
    statement["Action"] = ["s3:ListBucketVersionz"]
    path.write_text(json.dumps(template))
    assert any("W3037" in str(m) for m in lint_file(path, config=ManualArgs()))
