"""One policy, every door (docs/design.md §14, issue 28): each setting that limits what may be
deleted gives the same verdict on the same world through the state machine, the CLI and
the event path. One row per setting, one column per door; adding a setting adds a row.

The world: a DataSync task between the pair; two keys (`data/a.txt`, `logs/b.txt`) each
written and synced twice, then their first versions permanently deleted at the source, so
each target holds one orphan copy a run would purge; and a key both sides hold.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from syncpurge.data.aws import DataSyncGateway
from syncpurge.data.s3store import S3Store
from syncpurge.errors import PreflightRefused
from syncpurge.events.consumer import EventPathConfig, QueuedEvent, consume
from syncpurge.workflow.context import Stores
from syncpurge_local.datasync_copy import ACCOUNT
from syncpurge_local.runtime import LocalDeployment, LocalRuntime
from tests.helpers import BucketPair, bucket_owners_checked, exit_code, versioned_pair
from tests.integration.test_event_consumer import eventbridge
from tests.workflow.conftest import REPORTS

pytestmark = pytest.mark.workflow

KEYS = ("data/a.txt", "logs/b.txt")
# The buckets belong to the task's account: the CLI expects it of them by default.
OWNER, SOMEONE_ELSE = ACCOUNT, "999999999999"


@dataclass
class World:
    runtime: LocalRuntime
    pair: BucketPair
    task_arn: str
    orphans: dict[str, str]  # key -> VersionId of the target copy its erasure orphaned
    erased: dict[str, str]  # key -> the source VersionId deleted
    settings: dict[str, Any] = field(default_factory=dict)  # the deployment's

    def orphan_set(self, *keys: str) -> set[tuple[str, str]]:
        return {(key, self.orphans[key]) for key in keys}


def make_world(runtime: LocalRuntime, *, preserve: str = "REMOVE", report_bucket: str = REPORTS,
               empty_source: bool = False, **settings: Any) -> World:  # fmt: skip
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = versioned_pair(s3, "parity-source", "parity-target", reports=REPORTS)
    task = runtime.create_task(
        pair.source, pair.target, preserve_deleted_files=preserve, report_bucket=report_bucket
    )
    pair.put_live()
    erased, orphans = {}, {}
    for key in KEYS:
        erased[key] = pair.put(key, "one")
        pair.sync()
        pair.put(key, "two!")
        pair.sync()
        versions = s3.list_object_versions(Bucket=pair.target, Prefix=key)["Versions"]
        orphans[key] = next(v["VersionId"] for v in versions if not v["IsLatest"])
        pair.delete_version(key, erased[key])
    if empty_source:  # a wrong or emptied source
        for key, version_id, _ in pair.entries(pair.source):
            pair.delete_version(key, version_id)
    return World(runtime, pair, task, orphans, erased, settings)


# ----------------------------------------------------------------------------- the doors


@dataclass(frozen=True)
class Verdict:
    purged: frozenset[tuple[str, str]]
    refused: bool  # the door refused the run (nothing listed or deleted)


def observed(world: World, act: Callable[[], bool]) -> Verdict:
    """What a door did to the world: the target entries it removed; the source and the
    target's keys outside what it removed are untouched (invariant 2)."""
    source_before = world.pair.entries(world.pair.source)
    target_before = world.pair.entries()
    refused = act()
    assert world.pair.entries(world.pair.source) == source_before
    gone = {(key, vid) for key, vid, _ in target_before - world.pair.entries()}
    return Verdict(frozenset(gone), refused)


def state_machine(world: World) -> Verdict:
    settings = {k: v for k, v in world.settings.items() if k != "cli"}
    deployment = LocalDeployment(
        world.pair.source, world.pair.target, REPORTS, world.task_arn, **settings
    )
    arn = world.runtime.deploy(deployment)

    def act() -> bool:
        result = world.runtime.run(arn, {"skipSync": True, "maxPurgeFraction": 1.0})
        return result.status == "FAILED"

    return observed(world, act)


def cli(world: World) -> Verdict:
    flags = [
        "reconcile",
        "--task-arn",
        world.task_arn,
        "--region",
        "us-east-1",
        "--max-purge-fraction",
        "1",
        *world.settings.get("cli", ()),
    ]
    return observed(world, lambda: exit_code(flags) == 2)


def event_path(world: World) -> Verdict:
    settings = world.settings
    config = EventPathConfig(
        source_bucket=world.pair.source,
        target_bucket=world.pair.target,
        report_bucket=REPORTS,
        task_arn=world.task_arn,
        report_account=settings.get("report_account", ""),
        prefixes=list(settings.get("prefixes", ())),
        require_approval=settings.get("require_approval", False),
        target_account=settings.get("target_account", ""),
        hold_minutes=0,
    )
    now = datetime.now(UTC) + timedelta(seconds=1)
    sent = now - timedelta(seconds=1)
    messages = [
        QueuedEvent(f"m{i}", eventbridge(world.pair, key, vid, sent), sent_at=sent)
        for i, (key, vid) in enumerate(world.erased.items())
    ]
    stores = Stores(
        S3Store(boto3.client("s3", region_name="us-east-1")),  # its owner checks, not ours
        datasync=DataSyncGateway(boto3.client("datasync", region_name="us-east-1")),
    )

    def act() -> bool:
        try:
            delivery = consume(messages, config=config, stores=stores, now=now)
        except PreflightRefused:
            return True
        return delivery.result.refused is not None

    return observed(world, act)


DOORS = {"state machine": state_machine, "cli": cli, "event path": event_path}


# ------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Row:
    """One setting: the world it makes, and the verdict every door must give on it. The
    `purged` keys' orphans go; `refused`: the doors that decline the run as a whole (the
    CLI and the state machine refuse, the event path decides nothing)."""

    world: Callable[[LocalRuntime], World]
    purged: tuple[str, ...]
    refused: bool = False
    # A door that has no such setting, and why (it gets no cell).
    not_a_setting_of: dict[str, str] = field(default_factory=dict)


ROWS = {
    "no limit": Row(make_world, purged=KEYS),
    "PreserveDeletedFiles=PRESERVE": Row(
        lambda rt: make_world(rt, preserve="PRESERVE"), purged=(), refused=False
    ),
    "report location in the source": Row(
        lambda rt: make_world(rt, report_bucket="parity-source"), purged=(), refused=True
    ),
    "prefixes": Row(
        lambda rt: make_world(rt, prefixes=("data/",), cli=("--prefix", "data/")),
        purged=("data/a.txt",),
    ),
    "requireApproval": Row(
        lambda rt: make_world(rt, require_approval=True),
        purged=(),
        not_a_setting_of={"cli": "a person runs the CLI: its run is the approval"},
    ),
    "unrelated source": Row(lambda rt: make_world(rt, empty_source=True), purged=(), refused=True),
    "owners": Row(
        lambda rt: make_world(
            rt, target_account=SOMEONE_ELSE, cli=("--target-account", SOMEONE_ELSE)
        ),
        purged=(),
        refused=True,
    ),
    "report bucket owner": Row(
        lambda rt: make_world(
            rt, report_account=SOMEONE_ELSE, cli=("--report-account", SOMEONE_ELSE)
        ),
        purged=(),
        refused=True,
    ),
}


@contextlib.contextmanager
def owned_buckets() -> Iterator[None]:
    """S3 answers a request naming another ExpectedBucketOwner 403 (moto ignores it)."""
    with bucket_owners_checked({"parity-source": OWNER, "parity-target": OWNER, REPORTS: OWNER}):
        yield


CELLS = [
    pytest.param(setting, door, id=f"{setting}-{door}")
    for setting, row in ROWS.items()
    for door in DOORS
    if door not in row.not_a_setting_of
]


@pytest.mark.parametrize(("setting", "door"), CELLS)
def test_every_door_gives_the_setting_s_verdict(setting: str, door: str) -> None:
    row = ROWS[setting]
    with LocalRuntime() as runtime, owned_buckets():
        world = row.world(runtime)
        verdict = DOORS[door](world)

    expected = world.orphan_set(*row.purged)
    assert verdict.purged == expected, f"{setting} / {door}"
    # The event path declines what the batch path refuses; where the batch path only
    # plans (PRESERVE, approval), it decides nothing and says why.
    if door == "event path":
        assert verdict.refused == (row.refused or not row.purged), f"{setting} / {door}"
    else:
        assert verdict.refused == row.refused, f"{setting} / {door}"


def test_the_table_has_a_cell_or_a_reason_for_every_door() -> None:
    for setting, row in ROWS.items():
        for door in row.not_a_setting_of:
            assert door in DOORS, f"{setting}: {door} is no door"
        assert set(DOORS) - set(row.not_a_setting_of), f"{setting}: no door has it"


def test_a_request_outside_the_deployment_s_prefixes_is_refused_before_anything_runs() -> None:
    with LocalRuntime() as runtime:
        world = make_world(runtime, prefixes=("data/",))
        settings = {k: v for k, v in world.settings.items() if k != "cli"}
        arn = runtime.deploy(
            LocalDeployment(
                world.pair.source, world.pair.target, REPORTS, world.task_arn, **settings
            )
        )

        def act() -> bool:
            result = runtime.run(arn, {"prefixes": ["logs/"], "maxPurgeFraction": 1.0})
            assert result.error == "InvalidInput", result.cause
            assert "outside this deployment's prefixes (data/" in str(result.cause)
            return True

        assert observed(world, act) == Verdict(frozenset(), refused=True)
