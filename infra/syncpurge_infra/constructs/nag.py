"""cdk-nag suppressions of AwsSolutions-IAM5 (wildcards in an IAM policy), each scoped to
the exact wildcard it excuses: a wildcard nobody excused fails the synth.

cdk-nag names each finding `Resource::<resource>` or `Action::<action>`, the resource
flattened from its CloudFormation form (cdk-nag's utils/flatten-cfn-reference): a Ref is
`<Name>`, a GetAtt `<Name.Attribute>`, a Join its parts joined, anything else its JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct

WILDCARDS = "AwsSolutions-IAM5"


def is_wildcard(text: str) -> bool:
    return "*" in text


def finding(scope: IConstruct, resource: str) -> str:
    """The finding id cdk-nag gives a wildcard resource (an ARN string, tokens and all)."""
    return f"Resource::{flatten(Stack.of(scope).resolve(resource))}"


def flatten(node: Any) -> str:
    """A resolved CloudFormation value as cdk-nag flattens it for a finding id."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        for intrinsic, flat in _INTRINSICS.items():
            if intrinsic in node:
                return flat(node[intrinsic])
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)


def _join(argument: Any) -> str:
    delimiter, items = argument
    return str(delimiter).join(flatten(item) for item in items)


def _get_att(argument: Any) -> str:
    resource, attribute = argument
    return f"<{flatten(resource)}.{flatten(attribute)}>"


# In cdk-nag's order of precedence.
_INTRINSICS: dict[str, Callable[[Any], str]] = {
    "Fn::Join": _join,
    "Fn::Sub": flatten,
    "Fn::GetAtt": _get_att,
    "Fn::ImportValue": flatten,
    "Ref": lambda name: f"<{flatten(name)}>",
}


def excuse_wildcards(
    construct: IConstruct, why: str, *, resources: Iterable[str] = (), actions: Iterable[str] = ()
) -> None:
    """Suppress IAM5 on `construct` (and its policy) for exactly these wildcard resources
    and actions, saying why; nothing else it is granted is excused."""
    applies_to = [finding(construct, r) for r in resources if is_wildcard(r)]
    applies_to += [f"Action::{a}" for a in actions if is_wildcard(a)]
    if not applies_to:
        return
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=WILDCARDS, reason=why, applies_to=applies_to)],
        apply_to_children=True,
    )
