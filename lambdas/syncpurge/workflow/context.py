"""What every step shares: the execution's state models, the clients, the workspace.

State shape carried by the execution: {"run": RunContext, "sync": DescribeTaskExecution
output or null, "error": {"Error", "Cause"} or null}. Everything large (work items, plans,
outcomes, per-slice figures) lives in the run's workspace in S3, so no state payload grows
with the bucket.

Workspace layout (under <report bucket>/syncpurge-work/<run-id>/):
    items.json                         Diff work items (the Distributed Map's ItemReader)
    lineage/<item>.jsonl               lineage records (DataSync task reports) per item
    plan/<item>-<slice>-<part>.jsonl   plan chunks (syncpurge.core.plan codec)
    diff-stats/<item>-<slice>.json     listing figures of one Diff slice
    guard.json                         the guard's decision
    purge-items.json                   Purge work items (one per plan chunk)
    outcomes/<chunk>-<slice>-<part>.jsonl  report lines of one Purge slice
    purge-stats/<chunk>-<slice>.json   requests of one Purge slice
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from syncpurge.core.policy import STATE_PREFIX, PolicySettings
from syncpurge.core.run_ids import execution_run_id
from syncpurge.core.scope import Scope
from syncpurge.data.aws import DataSyncGateway, ExecutionsGateway, NotificationGateway
from syncpurge.data.files import RunFiles
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.errors import InvalidInput
from syncpurge.models import Mode, ReconcileRequest
from syncpurge.phases.report import EntriesWriter, StoreDestination
from syncpurge.summary import RequestCounts

PLAN_CHUNK_ENTRIES = 50_000
# Settings left unset in the definition: cfn-lint reads an empty substitution as a missing
# one (E1029), so each has a word of its own. A Region: Prepare asks the bucket.
ASK_THE_BUCKET = "auto"
NO_TASK = "none"  # a deployment without a DataSync task (S3 Replication)
ALL_PREFIXES = "*"  # a deployment whose scope no `prefixes` setting narrows ('*' is no prefix)


class Wire(BaseModel):
    """camelCase on the wire (state JSON), snake_case in Python."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_state(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class DeploymentSettings(Wire):
    """A deployment's settings, as every door that runs on it reads them: the state
    machine's RunConfig (ASL placeholders) and the event path's config (its environment).
    `policy_settings` hands them to the one policy (syncpurge.core.policy)."""

    source_bucket: str
    target_bucket: str
    task_arn: str = ""  # "" (the definition says "none") when the deployment has no task
    # The deployment's mode: every request's default, and the only mode it can serve.
    mode: Mode = Mode.DATASYNC
    # The accounts that must own the buckets: every request on them carries it as
    # ExpectedBucketOwner ("": not checked).
    source_account: str = ""
    target_account: str = ""
    # Each bucket's Region: its requests are signed for it ("": asked of the bucket once a
    # run, and carried in RunContext.regions; the definition says "auto").
    source_region: str = ""
    target_region: str = ""
    report_bucket: str
    report_account: str = ""  # the account that must own the report bucket ("": not checked)
    # The deployment's `prefixes` setting: every request's scope lies under one of them
    # (the definition carries them comma-joined, or "*" for none).
    prefixes: list[str] = Field(default_factory=list)
    notification_topic_arn: str = ""  # "" : no notification
    # A person approves every purge: runs that apply no reviewed plan only plan.
    require_approval: bool = False

    @field_validator("source_region", "target_region")
    @classmethod
    def _ask_the_bucket(cls, value: str) -> str:
        return "" if value == ASK_THE_BUCKET else value

    @field_validator("task_arn")
    @classmethod
    def _no_task(cls, value: str) -> str:
        return "" if value == NO_TASK else value

    @field_validator("prefixes", mode="before")
    @classmethod
    def _prefix_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [] if value == ALL_PREFIXES else [p for p in value.split(",") if p]
        return value

    def policy_settings(self) -> PolicySettings:
        """The deployment's settings as every door's policy takes them."""
        return PolicySettings(
            source_bucket=self.source_bucket,
            target_bucket=self.target_bucket,
            mode=self.mode,
            prefixes=tuple(self.prefixes),
            require_approval=self.require_approval,
            source_account=self.source_account,
            target_account=self.target_account,
            report_account=self.report_account,
            report_bucket=self.report_bucket,
        )


class RunConfig(DeploymentSettings):
    """The deployment's settings plus the state machine's own and the execution's context."""

    poll_interval_seconds: int = Field(default=30, ge=0)
    poll_ceiling_seconds: int = Field(default=900, ge=0)
    # The Distributed Maps' MaxConcurrency (MaxConcurrencyPath reads them from here).
    diff_max_concurrency: int = Field(default=800, ge=1, le=10_000)
    purge_max_concurrency: int = Field(default=10, ge=1, le=10_000)
    # Every run re-checks the erasure receipts of this many days back (0: none).
    erase_check_days: int = Field(default=90, ge=0)
    state_machine_arn: str
    execution_arn: str
    execution_name: str
    start_time: datetime

    @property
    def run_id(self) -> str:
        """The run's id, in the one format every door uses (`syncpurge.core.run_ids`)."""
        return execution_run_id(self.execution_name, self.start_time)


class Location(Wire):
    bucket: str
    prefix: str  # "" or ends with "/"

    def key(self, name: str) -> str:
        return self.prefix + name


class RunContext(Wire):
    """Prepare's result, carried by every later step."""

    run_id: str
    config: RunConfig
    request: ReconcileRequest
    task_id: str
    report: Location
    workspace: Location
    skip_sync: bool
    includes: list[dict[str, str]]
    scope: dict[str, Any]  # Scope.describe(): roots, Includes/Excludes, excluded prefixes
    # Where the DataSync task's detailed reports are (lineage), if it writes any.
    lineage: Location | None = None
    # bucket -> Region of every bucket the run calls, found once in Prepare.
    regions: dict[str, str] = Field(default_factory=dict)
    preserve_blocks_purge: bool
    target_object_lock: bool
    advisories: list[str]
    # The Wait between DescribeTaskExecution polls starts at the interval and doubles up to
    # the ceiling (the state machine's BackOff / Capped? states).
    poll_interval_seconds: int
    poll_ceiling_seconds: int

    def to_state(self) -> dict[str, Any]:
        state = super().to_state()
        state["request"] = self.request.model_dump(mode="json", by_alias=True)
        return state

    @property
    def scope_model(self) -> Scope:
        return Scope.from_description(self.scope)


class RunEvent(Wire):
    run: RunContext


class Stores:
    """The clients one step works with; tests hand in moto-backed ones."""

    def __init__(
        self,
        s3: S3Store,
        datasync: DataSyncGateway | None = None,
        executions: ExecutionsGateway | None = None,
        notifications: NotificationGateway | None = None,
        files: RunFiles | None = None,
        *,
        source: S3Store | None = None,
        target: S3Store | None = None,
        keeps_state: bool = True,
    ) -> None:
        self.notifications = notifications
        self.s3 = s3
        # The pair's own stores: `s3` unless a driver gives each side its own (the CLI's
        # source and target, which a test may also give clients of their own).
        self.source = source or s3
        self.target = target or s3
        # The run's workspace and report: in their S3 bucket, or in a local folder that
        # holds them under the same names (data.files.FolderStore).
        self.files: RunFiles = files or s3
        self.datasync = datasync
        self.executions = executions
        # A deployment's steps keep its state (STATE_PREFIX: the last verdict on the
        # source, which holds its event path); a CLI run is no deployment's, and keeps none.
        self.keeps_state = keeps_state

    def all_s3(self) -> list[S3Store]:
        """Each distinct S3 store once."""
        stores: list[S3Store] = []
        for store in (self.s3, self.source, self.target):
            if all(store is not seen for seen in stores):
                stores.append(store)
        return stores

    def requests(self) -> RequestCounts:
        """The S3 requests this step's stores sent, each counter once."""
        total = RequestCounts()
        counters: list[RequestCounter] = []
        for store in self.all_s3():
            if all(store.counter is not seen for seen in counters):
                counters.append(store.counter)
                counts = store.counter.snapshot()
                total.list += counts.list
                total.delete += counts.delete
                total.verify += counts.verify
                total.head += counts.head
        return total


class PairSettings(Protocol):
    """A deployment's facts about its pair: a run's RunConfig, the event path's config."""

    source_bucket: str
    target_bucket: str
    source_region: str
    target_region: str

    def policy_settings(self) -> PolicySettings: ...


def expect_owners(stores: Stores, config: PairSettings) -> None:
    """Every request of this step on the source, the target or the deployment's report
    bucket names the account that must own it (ExpectedBucketOwner): a bucket that changed
    hands answers 403."""
    owners = config.policy_settings().owners()
    for store in stores.all_s3():
        store.expect_owners(owners)


def place_buckets(stores: Stores, run: RunContext) -> None:
    """Owners as `expect_owners`, and each bucket called in the Region Prepare found."""
    expect_owners(stores, run.config)
    for store in stores.all_s3():
        store.place(run.regions)


def find_regions(stores: Stores, config: PairSettings, buckets: list[str]) -> dict[str, str]:
    """Each bucket's Region: the setting for the source and the target, else asked of the
    bucket (HeadBucket); a bucket that won't say stays on the Lambda's own Region."""
    given = {config.source_bucket: config.source_region, config.target_bucket: config.target_region}
    regions: dict[str, str] = {}
    for bucket in dict.fromkeys(buckets):
        region = given.get(bucket) or stores.s3.find_region(bucket)
        if region:
            regions[bucket] = region
    return regions


def chunk_writer(stores: Stores, workspace: Location, folder: str, stem: str) -> EntriesWriter:
    """JSON lines into `<folder>/<stem>-001.jsonl`, ... in the run's workspace."""
    return EntriesWriter(
        workspace_destination(stores, workspace),
        PLAN_CHUNK_ENTRIES,
        name=lambda number: f"{folder}/{stem}-{number:03d}.jsonl",
    )


def workspace_destination(stores: Stores, workspace: Location) -> StoreDestination:
    return StoreDestination(stores.files, workspace.bucket, workspace.prefix)


WORKSPACE_PREFIX = "syncpurge-work/"
# STATE_PREFIX (syncpurge.core.policy) is what must outlive any run and never expire (the
# event path's brake and holds, the last batch run's verdict on its source): no lifecycle
# rule covers it, and only the roles that own each file may write it.


def workspace_root(workspace: Location) -> Location:
    """The folder every run's workspace lies in, beside this one's: a deployment's is
    WORKSPACE_PREFIX at its report bucket's root; a CLI run's lies under its --report."""
    parent = workspace.prefix.rstrip("/").rpartition("/")[0]
    return Location(bucket=workspace.bucket, prefix=f"{parent}/" if parent else "")


def stored_workspace(workspace: Location, run_id: str) -> Location:
    """The workspace an earlier run kept beside this one's (its plan, its figures)."""
    root = workspace_root(workspace)
    return Location(bucket=root.bucket, prefix=f"{root.prefix}{run_id}/")


def files_of(stores: Stores, where: Location) -> RunFiles:
    """Where `where` lies: the deployment's state (STATE_PREFIX: the event path's brake
    and holds, the last verdict on the source) always in its S3 bucket, where every door
    looks for it; a run's workspace and report where `Stores.files` keeps them."""
    if not where.prefix.startswith(STATE_PREFIX):
        return stores.files
    if not stores.keeps_state:
        raise ValueError(f"a run that keeps no deployment's state reached {where.prefix}")
    return stores.s3


def put_json(stores: Stores, workspace: Location, name: str, doc: Any) -> None:
    body = json.dumps(doc).encode()
    files_of(stores, workspace).put_bytes(
        workspace.bucket, workspace.key(name), body, "application/json"
    )


def get_json(stores: Stores, workspace: Location, name: str) -> Any:
    body = files_of(stores, workspace).get_bytes_or_none(workspace.bucket, workspace.key(name))
    return None if body is None else json.loads(body)


def stored_json(stores: Stores, where: Location, name: str, setting: str) -> Any:
    """A JSON file of a stored workspace (which a person may have edited), or None; one
    that is not JSON refuses the run, naming it."""
    files = files_of(stores, where)
    shown = files.shown(where.bucket, where.key(name))
    try:
        body = files.get_bytes_or_none(where.bucket, where.key(name))
    except (OSError, ValueError) as err:  # unreadable, or a link out of its folder
        raise InvalidInput(f"{setting}: {shown} can't be read ({err})") from None
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError as err:
        raise InvalidInput(f"{setting}: {shown} is not JSON ({err})") from None


def all_json(stores: Stores, workspace: Location, folder: str) -> list[dict[str, Any]]:
    files = files_of(stores, workspace)
    keys = files.list_keys(workspace.bucket, workspace.key(folder))
    return [json.loads(files.get_bytes(workspace.bucket, key)) for key in keys]


def sum_json(stores: Stores, workspace: Location, folder: str) -> dict[str, Any]:
    """Sum numeric fields of every JSON object in a workspace folder; lists are gathered."""
    total: dict[str, Any] = {}
    for doc in all_json(stores, workspace, folder):
        for name, value in doc.items():
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                total[name] = total.get(name, 0) + value
            elif isinstance(value, list):
                total.setdefault(name, []).append(value)
            elif isinstance(value, dict):
                bucket = total.setdefault(name, {})
                for k, v in value.items():
                    bucket[k] = bucket.get(k, 0) + int(v)
    return total
