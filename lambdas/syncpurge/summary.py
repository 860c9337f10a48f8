"""The report's summary.json (docs/design.md §8) as models: a run's totals, by rule and
proof, its requests, its recut waves and its sync, and the summary that holds them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from syncpurge.models import GuardDecision, Mode, ReconcileRequest, RunStatus

SCHEMA_VERSION = 1


class Totals(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    source_entries: int = Field(default=0, alias="sourceEntries")
    target_entries: int = Field(default=0, alias="targetEntries")
    planned: int = 0
    purged: int = 0
    retained: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_reclaimed: int = Field(default=0, alias="bytesReclaimed")


class RuleTotals(BaseModel):
    planned: int = 0
    purged: int = 0
    retained: int = 0
    skipped: int = 0
    failed: int = 0


class RequestCounts(BaseModel):
    list: int = 0
    delete: int = 0
    verify: int = 0
    head: int = 0


class DiffWaves(BaseModel):
    """How the Diff ran: its Map's waves, how many items handed the rest of their range
    back, and into how many pieces those remainders were cut (docs/design.md §10)."""

    waves: int = 1
    items: int = 0
    pieces: int = 0


class SyncInfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    execution_arn: str = Field(alias="executionArn")
    status: str
    result: dict[str, Any] = Field(default_factory=dict)


class Summary(BaseModel):
    """docs/design.md §8 summary.json."""

    model_config = ConfigDict(populate_by_name=True)

    schema_version: int = Field(default=SCHEMA_VERSION, alias="schemaVersion")
    run_id: str = Field(alias="runId")
    status: RunStatus
    mode: Mode
    dry_run: bool = Field(alias="dryRun")
    applied_plan: str | None = Field(default=None, alias="appliedPlan")
    source_bucket: str = Field(alias="sourceBucket")
    target_bucket: str = Field(alias="targetBucket")
    # The Region each bucket's requests were signed for (None: the run never reached it).
    source_region: str | None = Field(default=None, alias="sourceRegion")
    target_region: str | None = Field(default=None, alias="targetRegion")
    scope: dict[str, Any] = Field(default_factory=dict)
    prefixes: list[str]
    sync: SyncInfo | None = None
    totals: Totals = Field(default_factory=Totals)
    by_rule: dict[str, RuleTotals] = Field(default_factory=dict, alias="byRule")
    by_proof: dict[str, int] = Field(default_factory=dict, alias="byProof")
    guard: GuardDecision | None = None
    requests: RequestCounts = Field(default_factory=RequestCounts)
    # The state machine's Diff: its waves and re-cut items (None: the CLI's run).
    recut: DiffWaves | None = None
    advisories: list[str] = Field(default_factory=list)
    started_at: datetime = Field(alias="startedAt")
    finished_at: datetime | None = Field(default=None, alias="finishedAt")
    error: str | None = None

    @classmethod
    def begun(
        cls,
        request: ReconcileRequest,
        *,
        run_id: str,
        source_bucket: str,
        target_bucket: str,
        source_region: str | None,
        target_region: str | None,
        scope: dict[str, Any],
        started_at: datetime,
    ) -> Summary:
        """A run's summary as it starts (FAILED until the run says otherwise): what the
        request asked for, the buckets, their Regions and the scope."""
        return cls(
            run_id=run_id,
            status=RunStatus.FAILED,
            mode=request.mode,
            dry_run=request.dry_run,
            applied_plan=request.apply_plan,
            source_bucket=source_bucket,
            target_bucket=target_bucket,
            source_region=source_region,
            target_region=target_region,
            scope=scope,
            prefixes=request.scope_prefixes(),
            started_at=started_at,
        )

    def to_document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
