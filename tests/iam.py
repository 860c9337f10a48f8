"""IAM, checked because LocalStack doesn't enforce it: what each call needs, and whether a
deployed role's policies (as CloudFormation resolved them) grant it.

The calls are the ones the deployed functions really made (the host executor records them)
and the state machine's integrations read from its deployed definition and executions.
Actions per operation: the service authorization reference ("Actions, resources, and
condition keys") and the S3 API reference's "Permissions" section of each operation.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from syncpurge.workflow.context import NO_TASK


@dataclass(frozen=True)
class Need:
    """One IAM action on one resource ARN that a call needs, with the condition keys the
    request carries (a listing's s3:prefix)."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


# Bucket-level operations: the action, on the bucket's ARN.
S3_BUCKET_ACTIONS = {
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
}
# Object-level operations: (action without VersionId, action with one), on the object's ARN.
S3_OBJECT_ACTIONS = {
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "PutObject": ("s3:PutObject", "s3:PutObject"),
    "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
}
# Other services: the action and the parameter naming its resource.
OTHER_ACTIONS = {
    ("sns", "Publish"): ("sns:Publish", "TopicArn"),
    ("datasync", "DescribeTask"): ("datasync:DescribeTask", "TaskArn"),
    ("datasync", "DescribeLocationS3"): ("datasync:DescribeLocationS3", "LocationArn"),
    ("datasync", "DescribeTaskExecution"): ("datasync:DescribeTaskExecution", "TaskExecutionArn"),
    ("stepfunctions", "ListExecutions"): ("states:ListExecutions", "stateMachineArn"),
    ("stepfunctions", "DescribeExecution"): ("states:DescribeExecution", "executionArn"),
    ("kms", "DescribeKey"): ("kms:DescribeKey", "KeyId"),
    ("kms", "Sign"): ("kms:Sign", "KeyId"),
    ("kms", "Verify"): ("kms:Verify", "KeyId"),
}
# "No permissions are required to perform this operation" (STS API reference).
NEEDS_NO_PERMISSION = {("sts", "GetCallerIdentity")}


def call_needs(service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """What one API call needs; KeyError for an operation this table doesn't know yet."""
    if (service, operation) in NEEDS_NO_PERMISSION:
        return []
    if service == "s3":
        bucket = f"arn:aws:s3:::{params['Bucket']}"
        if operation in S3_BUCKET_ACTIONS:
            # A listing's Prefix is its s3:prefix condition key (absent when none is sent).
            listed = (("s3:prefix", params["Prefix"]),) if "Prefix" in params else ()
            return [Need(S3_BUCKET_ACTIONS[operation], bucket, listed)]
        if operation == "DeleteObjects":
            objects = params["Delete"]["Objects"]
            needs = [_object_need("DeleteObject", bucket, o) for o in objects]
        else:
            needs = [_object_need(operation, bucket, params)]
        if params.get("BypassGovernanceRetention"):
            needs += [Need("s3:BypassGovernanceRetention", n.resource) for n in needs]
        return needs
    if (service, operation) in OTHER_ACTIONS:
        action, resource = OTHER_ACTIONS[service, operation]
        return [Need(action, params[resource])]
    raise KeyError(f"no IAM action known for {service}:{operation}: add it to tests/iam.py")


def _object_need(operation: str, bucket: str, params: dict[str, Any]) -> Need:
    plain, versioned = S3_OBJECT_ACTIONS[operation]
    return Need(versioned if params.get("VersionId") else plain, f"{bucket}/{params['Key']}")


def recorded_calls(folder: Path) -> Iterator[dict[str, Any]]:
    """Every call the host executor recorded: {'function', 'service', 'operation', 'params'}."""
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            yield json.loads(line)


def role_statements(iam: Any, role_arn: str) -> list[dict[str, Any]]:
    """Every statement of a role's inline and attached policies."""
    name = role_arn.rsplit("/", 1)[-1]
    documents = []
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        documents.append(iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
        documents.append(
            iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)[
                "PolicyVersion"
            ]["Document"]
        )
    statements: list[dict[str, Any]] = []
    for document in documents:
        parsed = (
            json.loads(urllib.parse.unquote(document)) if isinstance(document, str) else document
        )
        statements += _as_list(parsed["Statement"])
    return statements


def allowed(statements: list[dict[str, Any]], need: Need) -> bool:
    """An identity policy's verdict: no matching Deny (whatever its condition), and a
    matching Allow whose condition holds. Only StringEquals / StringLike on the keys the
    request carries are evaluated; any other condition counts as not granting."""
    matching = [s for s in statements if _matches(s, need)]
    if any(s["Effect"] == "Deny" for s in matching):
        return False
    return any(s["Effect"] == "Allow" and _holds(s.get("Condition", {}), need) for s in matching)


def _holds(condition: dict[str, Any], need: Need) -> bool:
    """Every operator's every key matches one of its values (the request's own value)."""
    context = dict(need.context)
    for operator, keys in condition.items():
        if operator not in ("StringEquals", "StringLike"):
            return False
        for key, values in keys.items():
            if key not in context:
                return False
            value = context[key]
            if operator == "StringEquals" and value not in _as_list(values):
                return False
            like = any(fnmatchcase(value, v) for v in _as_list(values))
            if operator == "StringLike" and not like:
                return False
    return True


def ungranted(statements: list[dict[str, Any]], needs: Iterable[Need]) -> list[Need]:
    return sorted({n for n in needs if not allowed(statements, n)}, key=str)


def _matches(statement: dict[str, Any], need: Need) -> bool:
    if "NotAction" in statement or "NotResource" in statement:
        raise ValueError(f"NotAction/NotResource not evaluated here: {statement}")
    actions = _as_list(statement.get("Action", []))
    resources = _as_list(statement.get("Resource", []))
    return any(fnmatchcase(need.action.lower(), a.lower()) for a in actions) and any(
        fnmatchcase(need.resource, r) for r in resources
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def state_machine_needs(
    definition: dict[str, Any], state_machine_arn: str, item_readers: Iterable[tuple[str, str]]
) -> list[Need]:
    """What the state machine's role needs for its integrations: each Lambda it invokes,
    each `aws-sdk:` call of a reachable state, each Distributed Map's child executions, and
    the ItemReader's GetObject of each (bucket, key) its executions read."""
    task_arn = _prepare_config(definition)["taskArn"]
    if task_arn == NO_TASK:  # the deployment has no task: no DataSync call is reachable
        task_arn = ""
    # The values the aws-sdk states' JSONPaths take: the deployment's task and an execution.
    paths = {
        "$.run.config.taskArn": task_arn,
        "$.sync.TaskExecutionArn": f"{task_arn}/execution/exec-0123456789abcdef0",
    }
    execution = state_machine_arn.replace(":stateMachine:", ":execution:") + "/child-1"
    needs = [Need("s3:GetObject", f"arn:aws:s3:::{b}/{k}") for b, k in item_readers]
    for state in _states(definition):
        resource = state.get("Resource", "")
        parameters = state.get("Parameters", {})
        if resource == "arn:aws:states:::lambda:invoke":
            needs.append(Need("lambda:InvokeFunction", parameters["FunctionName"]))
        elif resource.startswith("arn:aws:states:::aws-sdk:") and task_arn:
            service, action = resource.rsplit(":", 2)[-2:]
            (path,) = (v for k, v in parameters.items() if k.endswith("Arn.$"))
            needs.append(Need(f"{service}:{action[0].upper()}{action[1:]}", paths[path]))
        processor = state.get("ItemProcessor", {}).get("ProcessorConfig", {})
        if processor.get("Mode") == "DISTRIBUTED":
            needs += [
                Need("states:StartExecution", state_machine_arn),
                Need("states:DescribeExecution", execution),
                Need("states:StopExecution", execution),
            ]
    return needs


def _prepare_config(definition: dict[str, Any]) -> dict[str, Any]:
    prepare = definition["States"][definition["StartAt"]]
    config: dict[str, Any] = prepare["Parameters"]["Payload"]["config"]
    return config


def _states(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in definition["States"].values():
        yield state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                yield from _states(state[nested])
        for branch in state.get("Branches", []):
            yield from _states(branch)


# --------------------------------------------------------------------------- templates


def template_statements(
    template: dict[str, Any], role: str, refs: dict[str, str]
) -> list[dict[str, Any]]:
    """The statements a synthesized template gives role `role` (a logical id), with each
    Ref and Fn::GetAtt resolved from `refs` ('Logical' or 'Logical.Attribute': value)."""
    resources = template["Resources"]
    documents = [p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])] + [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
    ]
    return [s for d in documents for s in _as_list(_resolve(d["Statement"], refs))]


def function_roles(template: dict[str, Any]) -> dict[str, str]:
    """The role (logical id) of each step's function, by step."""
    roles = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            handler = resource["Properties"].get("Handler", "")
            if handler.startswith("syncpurge_handlers."):
                roles[handler.split(".")[1]] = resource["Properties"]["Role"]["Fn::GetAtt"][0]
    return roles


def resolved(value: Any, refs: dict[str, str]) -> Any:
    """A template value with its Refs, GetAtts, Joins, Selects and Splits resolved from
    `refs` ('Logical' or 'Logical.Attribute': value; anything else 'unresolved:…')."""
    return _resolve(value, refs)


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key in _INTRINSICS:
            return _INTRINSICS[key](argument, refs)
    return {k: _resolve(v, refs) for k, v in value.items()}


def _ref(name: str, refs: dict[str, str]) -> Any:
    return refs.get(name, f"unresolved:{name}")


def _join(argument: Any, refs: dict[str, str]) -> str:
    separator, parts = argument
    return str(separator).join(str(_resolve(p, refs)) for p in parts)


def _select(argument: Any, refs: dict[str, str]) -> Any:
    index, items = argument
    chosen = _resolve(items, refs)
    return chosen[int(index)] if int(index) < len(chosen) else f"unresolved:{chosen}"


def _split(argument: Any, refs: dict[str, str]) -> list[str]:
    separator, text = argument
    return str(_resolve(text, refs)).split(separator)


_INTRINSICS: dict[str, Callable[[Any, dict[str, str]], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": lambda argument, refs: _ref(".".join(argument), refs),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
}
