"""`prefixes` bind the grants that delete (issue 28, defect 8; docs/design.md §14): with them, the
Purge and Events roles delete, read and list the target only under them."""

from __future__ import annotations

import pytest

from tests.iam import Need, allowed
from tests.infra.conftest import Synthesized, role_grants

pytestmark = pytest.mark.infra

TARGET = "arn:aws:s3:::corp-dst"
DELETING = ("purge", "events")


def may(synthesized: Synthesized, step: str, need: Need) -> bool:
    grants = role_grants(synthesized)
    return step in grants and allowed(grants[step], need)


def deleters(synthesized: Synthesized, key: str) -> set[str]:
    need = Need("s3:DeleteObjectVersion", f"{TARGET}/{key}")
    return {step for step in DELETING if may(synthesized, step, need)}


def listers(synthesized: Synthesized, prefix: str | None) -> set[str]:
    context = () if prefix is None else (("s3:prefix", prefix),)
    need = Need("s3:ListBucketVersions", TARGET, context)
    return {step for step in DELETING if may(synthesized, step, need)}


@pytest.mark.parametrize(
    ("fixture", "inside", "outside"),
    [
        # A created task: target keys are the prefixes' own (no Subdirectory)
        ("eventful", ["logs/a.txt", "img/x/y.png"], ["other/logs/a.txt", "logs", "a.txt"]),
        # S3 Replication: keys as in the source
        ("replicating", ["data/a.txt"], ["database/a", "x/data/a.txt", "a.txt"]),
        # A given task: its Subdirectory is unknown at synth, so any one before the prefix
        ("existing", ["logs/a.txt", "sub/dir/img/b"], ["other/a.txt", "a.txt", "logsx/a"]),
    ],
)
def test_with_prefixes_deleting_roles_delete_only_under_them(
    request: pytest.FixtureRequest, fixture: str, inside: list[str], outside: list[str]
) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    roles = {"purge", "events"} if synthesized.resources("AWS::SQS::Queue") else {"purge"}

    for key in inside:
        assert deleters(synthesized, key) == roles, key
        # the event path's proofs read those keys too
        read = Need("s3:GetObjectVersion", f"{TARGET}/{key}")
        assert may(synthesized, "events", read) == ("events" in roles)
    for key in outside:
        assert deleters(synthesized, key) == set(), key
        assert not may(synthesized, "events", Need("s3:GetObjectVersion", f"{TARGET}/{key}"))


@pytest.mark.parametrize("fixture", ["eventful", "replicating"])
def test_with_prefixes_purge_lists_a_key_only_under_them(
    request: pytest.FixtureRequest, fixture: str
) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    key = synthesized.stack.config.prefixes[0] + "a.txt"

    # Purge lists the target one key at a time (Prefix=<key>), only under the prefixes;
    # the consumer's preflight lists a page with no Prefix, so its listings stay whole
    assert listers(synthesized, key) == set(DELETING)
    assert listers(synthesized, "other/a.txt") == {"events"}
    assert listers(synthesized, "") == {"events"}
    assert listers(synthesized, None) == {"events"}


def test_without_prefixes_the_whole_target(creating: Synthesized) -> None:
    # (creating has no event path: Purge alone deletes)
    assert deleters(creating, "any/key.txt") == {"purge"}
    assert listers(creating, None) == {"purge"}
