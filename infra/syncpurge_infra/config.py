"""Deployment configuration from CDK context (cdk.json, -c key=value), validated at synth.

Every name and default of the deployment lives here.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
TASK_ARN = re.compile(r"^arn:aws[a-z-]*:datasync:[a-z0-9-]+:\d{12}:task/task-[0-9a-f]{17}$")
SCHEDULE = re.compile(r"^(cron\(.+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\)|off)$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEFAULTS: dict[str, Any] = {
    "stackName": "syncpurge",
    "stateMachineName": "syncpurge",
    "schedule": "cron(0 3 * * ? *)",  # daily, 03:00 in `timezone`
    "timezone": "UTC",
    "mode": "datasync",
    "prefixes": [],
    "pollIntervalSeconds": 60,
    # The DataSync poll interval doubles up to this (see the state machine's WaitForSync).
    "pollCeilingSeconds": 900,
    "bypassGovernance": False,
    "workspaceRetentionDays": 30,
    # Every run re-checks the erasure receipts of this many days back (0: none).
    "eraseCheckDays": 90,
    "logRetentionDays": 90,
    # Powertools for AWS Lambda (Python) v3 public layer, built for this runtime/architecture.
    "powertoolsLayerVersion": 27,
    # A first sync of a large bucket can take days: 8 days covers a 7-day sync and its
    # purge (Standard workflows allow a year).
    "timeoutSeconds": 8 * 24 * 3600,
    # The scheduled run's guard (the request's maxPurge / maxPurgeFraction) and dry run.
    "maxPurge": 100_000,
    "maxPurgeFraction": 0.05,
    "scheduleDryRun": False,
    # Scheduled runs only plan; a person applies the plan ({"applyPlan": "<run-id>"}).
    "requireApproval": False,
    # Concurrency, for an account with the default 1,000 concurrent Lambda executions
    # (docs/deploy.md "Concurrency"). A Diff keeps one 1,000-entry page in flight per side (~6.7
    # LIST/s at 0.3 s a page), so ~825 of them reach the 5,500 LIST/s one S3 partition
    # serves: 800 leaves 200 to the account's other functions. Purge is bound by S3's
    # 3,500 deletes/s per partition (each Purge has 4,000 deletes in flight), not by Lambda.
    "diffMaxConcurrency": 800,
    "purgeMaxConcurrency": 10,
    # 1,769 MB is one full vCPU: the diff parses ~2 listing pages per 10 ms of CPU.
    "diffMemoryMb": 1769,
    "purgeMemoryMb": 1024,
    # The event path (docs/design.md §13): off unless asked for; nothing of a key is purged until
    # this long after its event, and past this many entries an hour it latches off.
    "events": "off",
    "eventHoldMinutes": 60,
    "eventMaxPurgePerHour": 1000,
}
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
PYTHON_RUNTIME = "python3.13"  # Lambda runs python3.12 or newer; the layer's build must match
LAYER_PYTHON = "python313"
# Memory (MB) and timeout (s) per step: Diff and Purge list and delete at scale.
# Diff's and Purge's memory are settings (diffMemoryMb, purgeMemoryMb); Plan probes the
# key space with 16 listings in flight and cuts up to 4 x diffMaxConcurrency items.
FUNCTION_SIZING: dict[str, tuple[int, int]] = {
    "prepare": (512, 120),
    "plan": (1024, 900),
    "diff": (DEFAULTS["diffMemoryMb"], 900),
    "guard": (512, 300),
    "purge": (DEFAULTS["purgeMemoryMb"], 900),
    "report": (1024, 900),
    "erase": (1024, 900),
}
# The event path's function (not a state machine step): one SQS delivery per invocation.
EVENTS_SIZING = (1024, 300)
# The report bucket's layout (syncpurge.workflow.context, syncpurge.core.policy, events.consumer).
# Run workspaces: expire after workspaceRetentionDays (the created bucket's lifecycle rule).
WORKSPACE_PREFIX = "syncpurge-work/"
# What outlives every run and never expires (no lifecycle rule covers it); each file is
# written only by the role that owns it.
STATE_PREFIX = "syncpurge-state/"
BRAKE_KEY = f"{STATE_PREFIX}events/brake.json"  # the event path's brake: its role only
HOLDS_PREFIX = f"{STATE_PREFIX}events/holds/"  # the event path's per-key holds: its role only
# A hold record is of use while an event of its key may still be queued: a hold of at most
# 7 days (eventHoldMinutes) inside SQS's 14-day retention. The brake and the verdict never
# expire; hold records, never deleted by the consumer, expire this long after their last write.
HOLD_RECORD_DAYS = 30
VERDICT_KEY = f"{STATE_PREFIX}source-verdict.json"  # the last batch run's verdict: Report only
# The Erase function's variable naming the KMS key that signs receipts
# (syncpurge_handlers.erase.RECEIPT_KEY_ENV).
RECEIPT_KEY_ENV = "SYNCPURGE_RECEIPT_KEY_ARN"
# The Powertools metrics namespace (and service dimension) of every function, and the
# metric a follow-up raises when an erased key came back
# (syncpurge_handlers.erase.REAPPEARED_METRIC).
METRICS_NAMESPACE = "syncpurge"
REAPPEARED_METRIC = "ErasedKeysReappeared"
# Keys files of erasure requests ({"erase": {"keysFile": ...}}): the one folder Erase reads.
ERASURE_REQUESTS_PREFIX = "erasure-requests/"
# Reports of every run: <DataSync report subdirectory>Purge-Reports/<task-id>/<run-id>/.
REPORTS_PREFIX = "Purge-Reports/"
# DataSync's own task reports beside them (lineage: Detailed-Reports/<task-id>/...).
DETAILED_REPORTS_PREFIX = "Detailed-Reports/"
DATASYNC_REPORT_FOLDERS = (DETAILED_REPORTS_PREFIX, "Summary-Reports/")
DATASYNC_REPORT_SUBDIRECTORY = "datasync-reports/"  # the created task's report Subdirectory
# The deployment's prefixes travel comma-joined in the definition and become DataSync
# Includes ('|'-joined, '*' a wildcard, relative to the location: no leading '/').
PREFIX_FORBIDDEN = (",", "*", "|")


# Context keys the app reads besides its settings (the stack's environment).
CDK_KEYS = ("account", "region")


class ConfigError(ValueError):
    """A context value is missing or wrong; the message names it."""


class DeploymentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    source_bucket: str = Field(alias="sourceBucket")
    target_bucket: str = Field(alias="targetBucket")
    task_arn: str | None = Field(default=None, alias="taskArn")
    report_bucket: str | None = Field(default=None, alias="reportBucket")
    # The accounts that must own the buckets (ExpectedBucketOwner on every request);
    # None: the stack's own account.
    source_account: str | None = Field(default=None, alias="sourceAccount")
    target_account: str | None = Field(default=None, alias="targetAccount")
    # The buckets' Regions (every request on a bucket is signed for its own); None: each
    # run asks the bucket once (HeadBucket's x-amz-bucket-region).
    source_region: str | None = Field(default=None, alias="sourceRegion")
    target_region: str | None = Field(default=None, alias="targetRegion")
    schedule: str = DEFAULTS["schedule"]
    timezone: str = DEFAULTS["timezone"]
    mode: Literal["datasync", "replication"] = DEFAULTS["mode"]
    alarm_email: str | None = Field(default=None, alias="alarmEmail")
    prefixes: list[str] = Field(default_factory=list)
    stack_name: str = Field(default=DEFAULTS["stackName"], alias="stackName")
    state_machine_name: str = Field(default=DEFAULTS["stateMachineName"], alias="stateMachineName")
    poll_interval_seconds: int = Field(
        default=DEFAULTS["pollIntervalSeconds"], ge=5, le=3600, alias="pollIntervalSeconds"
    )
    poll_ceiling_seconds: int = Field(
        default=DEFAULTS["pollCeilingSeconds"], ge=5, le=3600, alias="pollCeilingSeconds"
    )
    bypass_governance: bool = Field(default=DEFAULTS["bypassGovernance"], alias="bypassGovernance")
    workspace_retention_days: int = Field(
        default=DEFAULTS["workspaceRetentionDays"], ge=1, alias="workspaceRetentionDays"
    )
    log_retention_days: int = Field(
        default=DEFAULTS["logRetentionDays"], ge=1, alias="logRetentionDays"
    )
    powertools_layer_version: int = Field(
        default=DEFAULTS["powertoolsLayerVersion"], ge=1, alias="powertoolsLayerVersion"
    )
    timeout_seconds: int = Field(
        default=DEFAULTS["timeoutSeconds"], ge=3600, le=31_536_000, alias="timeoutSeconds"
    )
    max_purge: int = Field(default=DEFAULTS["maxPurge"], ge=0, alias="maxPurge")
    max_purge_fraction: float = Field(
        default=DEFAULTS["maxPurgeFraction"], gt=0, le=1, alias="maxPurgeFraction"
    )
    schedule_dry_run: bool = Field(default=DEFAULTS["scheduleDryRun"], alias="scheduleDryRun")
    require_approval: bool = Field(default=DEFAULTS["requireApproval"], alias="requireApproval")
    # A Distributed Map runs at most 10,000 child executions at once.
    diff_max_concurrency: int = Field(
        default=DEFAULTS["diffMaxConcurrency"], ge=1, le=10_000, alias="diffMaxConcurrency"
    )
    purge_max_concurrency: int = Field(
        default=DEFAULTS["purgeMaxConcurrency"], ge=1, le=10_000, alias="purgeMaxConcurrency"
    )
    erase_check_days: int = Field(
        default=DEFAULTS["eraseCheckDays"], ge=0, le=3650, alias="eraseCheckDays"
    )
    # Lambda's memory range.
    diff_memory_mb: int = Field(
        default=DEFAULTS["diffMemoryMb"], ge=128, le=10_240, alias="diffMemoryMb"
    )
    purge_memory_mb: int = Field(
        default=DEFAULTS["purgeMemoryMb"], ge=128, le=10_240, alias="purgeMemoryMb"
    )
    events: Literal["on", "off"] = DEFAULTS["events"]
    event_hold_minutes: int = Field(
        default=DEFAULTS["eventHoldMinutes"], ge=0, le=7 * 24 * 60, alias="eventHoldMinutes"
    )
    event_max_purge_per_hour: int = Field(
        default=DEFAULTS["eventMaxPurgePerHour"], ge=1, alias="eventMaxPurgePerHour"
    )

    def sizing(self, step: str) -> tuple[int, int]:
        """(memory MB, timeout s) of a step's function."""
        memory, timeout = FUNCTION_SIZING[step]
        memory = {"diff": self.diff_memory_mb, "purge": self.purge_memory_mb}.get(step, memory)
        return memory, timeout

    @field_validator("prefixes", mode="before")
    @classmethod
    def _prefix_list(cls, value: Any) -> Any:
        return [p for p in value.split(",") if p] if isinstance(value, str) else value

    @field_validator("prefixes")
    @classmethod
    def _prefix_text(cls, value: list[str]) -> list[str]:
        for prefix in value:
            bad = [c for c in PREFIX_FORBIDDEN if c in prefix]
            if bad or prefix.startswith("/"):
                raise ValueError(
                    f"{prefix!r} can't be a prefix: no {' '.join(PREFIX_FORBIDDEN)} in it and no "
                    "leading '/' (keys are relative to the bucket or the task's location)"
                )
        return value

    @field_validator("source_bucket", "target_bucket", "report_bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and not BUCKET_NAME.match(value):
            raise ValueError(f"{value!r} is not an S3 bucket name")
        return value

    @field_validator("source_account", "target_account", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        text = None if value is None else str(value)
        if text is not None and not re.fullmatch(r"\d{12}", text):
            raise ValueError(f"{value!r} is not a 12-digit AWS account ID")
        return text

    @field_validator("source_region", "target_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2}(-[a-z0-9]+)+-\d+", value):
            raise ValueError(f"{value!r} is not an AWS Region name (like eu-west-1)")
        return value

    @field_validator("task_arn")
    @classmethod
    def _task_arn(cls, value: str | None) -> str | None:
        if value is not None and not TASK_ARN.match(value):
            raise ValueError(
                f"{value!r} is not a DataSync task ARN (arn:aws:datasync:…:task/task-…)"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not SCHEDULE.match(value):
            raise ValueError(f"{value!r} is not cron(...), rate(N unit) or off")
        return value

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> DeploymentConfig:
        if self.source_bucket == self.target_bucket:
            raise ValueError("sourceBucket and targetBucket must differ")
        if self.report_bucket in (self.source_bucket, self.target_bucket):
            raise ValueError("reportBucket must be neither the source nor the target bucket")
        return self

    @model_validator(mode="after")
    def _approval_holds_the_event_path(self) -> DeploymentConfig:
        if self.events == "on" and self.require_approval:
            raise ValueError(
                "events=on and requireApproval=true can't go together: the event path deletes "
                "unattended, and requireApproval means a person approves every purge"
            )
        return self

    @property
    def creates_task(self) -> bool:
        """A DataSync task is created unless one is given or S3 Replication keeps the copy."""
        return self.task_arn is None and self.mode == "datasync"

    @property
    def task_id(self) -> str | None:
        """The given task's id (task-…), from its ARN; None without one."""
        return self.task_arn.rsplit("/", 1)[-1] if self.task_arn else None

    @property
    def target_root(self) -> str | None:
        """Where target keys start: "" for S3 Replication and for the created task (its
        locations have no Subdirectory, constructs/datasync_task.py); None for a given task,
        whose Subdirectory is only known when a run reads the task."""
        return None if self.task_arn else ""

    @property
    def scheduled_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "maxPurge": self.max_purge,
            "maxPurgeFraction": self.max_purge_fraction,
        }
        if self.prefixes:
            request["prefixes"] = self.prefixes
        if self.mode == "replication":
            request["mode"] = "replication"
        if self.schedule_dry_run or self.require_approval:
            request["dryRun"] = True
        return request

    @classmethod
    def from_context(cls, get: Any, given: Iterable[str] = ()) -> DeploymentConfig:
        """Read every known key through `get(name)` (node.try_get_context) and validate.

        `given` is every context key the app received: a plain key that is not a setting
        is refused, naming the nearest one (`-c alarmEmial=…` must not deploy silently
        without an alarm email). Namespaced keys (`@aws-cdk/…`, `aws:cdk:…`) are the CDK's.
        """
        names = [f.alias or n for n, f in cls.model_fields.items()]
        for key in sorted(given):
            if ":" in key or key.startswith("@") or key in names or key in CDK_KEYS:
                continue
            nearest = difflib.get_close_matches(key, names, n=1)
            hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
            raise ConfigError(
                f"syncpurge deployment config (CDK context): {key!r} is not a setting{hint} "
                f"(settings: {', '.join(sorted(names))})"
            )
        raw = {name: _coerce(get(name)) for name in names if get(name) not in (None, "")}
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'config'}: "
                f"{e['msg'].removeprefix('Value error, ')}"
                for e in err.errors()
            )
            raise ConfigError(f"syncpurge deployment config (CDK context): {problems}") from None


def _coerce(value: Any) -> Any:
    """`-c prefixes=a/,b/` and `-c bypassGovernance=true` arrive as strings."""
    if not isinstance(value, str):
        return value
    if value in ("true", "false"):
        return value == "true"
    if value.isdigit():
        return int(value)
    if value.startswith("["):
        return json.loads(value)
    return value
