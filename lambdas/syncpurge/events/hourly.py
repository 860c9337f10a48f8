"""The event path's reports: the batch path's files under one run id per clock hour
(`events-2026-12-01T14`), each batch adding its entries, journal and figures.

The consumer runs one batch at a time (its function's reserved concurrency is 1), so the
hour's summary.json is read, added to and written back by one writer.
"""

from __future__ import annotations

from datetime import datetime
from statistics import quantiles

from pydantic import BaseModel, ConfigDict, Field

from syncpurge.events.path import EventBatchResult, hour_of
from syncpurge.models import Mode, RunStatus
from syncpurge.phases.report import EntriesWriter, OutcomeTally, ReportDestination, record_to_line
from syncpurge.summary import Summary


class EventFigures(BaseModel):
    """What the hour's batches received and did besides their entries' outcomes."""

    model_config = ConfigDict(populate_by_name=True)

    received: int = 0
    distinct_keys: int = Field(default=0, alias="distinctKeys")
    purged: int = 0
    left_to_batch: int = Field(default=0, alias="leftToBatch")
    out_of_scope: int = Field(default=0, alias="outOfScope")
    held: int = 0  # deliveries returned to the queue until their hold ends
    brake_tripped: bool = Field(default=False, alias="brakeTripped")
    refused: str | None = None
    # Seconds from an event's time to its delete, the hold excluded, one per purged entry
    # (at most eventMaxPurgePerHour an hour, so the hour keeps them all).
    latencies: list[float] = Field(default_factory=list)
    latency_p50: float | None = Field(default=None, alias="latencyP50")
    latency_p99: float | None = Field(default=None, alias="latencyP99")

    def add(self, result: EventBatchResult) -> None:
        self.received += result.received
        self.distinct_keys += result.keys
        self.purged += result.purged
        self.left_to_batch += result.left_to_batch
        self.out_of_scope += result.out_of_scope
        self.held += len(result.held)
        self.brake_tripped = self.brake_tripped or result.brake_tripped
        self.refused = result.refused or self.refused
        self.latencies += result.latencies
        if self.latencies:
            ordered = sorted(self.latencies)
            cuts = quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else []
            self.latency_p50 = cuts[49] if cuts else ordered[0]
            self.latency_p99 = cuts[98] if cuts else ordered[0]


class HourlyReport(BaseModel):
    """summary.json of an event hour: the batch path's summary plus the event figures."""

    model_config = ConfigDict(populate_by_name=True)

    summary: Summary
    events: EventFigures = Field(default_factory=EventFigures)
    batches: int = 0

    def document(self) -> dict[str, object]:
        return {
            **self.summary.to_document(),
            "events": self.events.model_dump(mode="json", by_alias=True),
            "batches": self.batches,
        }


def run_id_for(now: datetime) -> str:
    return f"events-{hour_of(now)}"


def add_batch(
    report: HourlyReport,
    result: EventBatchResult,
    destination: ReportDestination,
    *,
    now: datetime,
    mode: Mode,
    delivery_id: str,
) -> None:
    """Write the batch's entries as files of their own, named for the delivery (never a
    name an earlier delivery of the hour wrote, even one that died before its summary), and
    fold its figures into the hour's summary (then written by the caller)."""
    report.batches += 1
    run_id = report.summary.run_id
    stamp = delivery_id
    writer = EntriesWriter(destination, name=lambda n: f"entries/entries-{stamp}-{n:05d}.jsonl")
    tally = OutcomeTally(
        report.summary.totals, dict(report.summary.by_rule), dict(report.summary.by_proof)
    )
    for record in result.records:
        line = record_to_line(record, run_id)
        writer.write(line)
        tally.add(line)
    writer.close()
    tally.totals.planned = sum(r.planned for r in tally.by_rule.values())
    summary = report.summary
    summary.totals, summary.by_rule = tally.totals, dict(sorted(tally.by_rule.items()))
    summary.by_proof = dict(sorted(tally.by_proof.items()))
    summary.mode = mode
    report.events.add(result)
    summary.finished_at = now
    # The brake is the event path's guard: its hour reads GUARD_TRIPPED, as a batch run's.
    if report.events.brake_tripped:
        summary.status = RunStatus.GUARD_TRIPPED
        summary.error = "BrakeTripped: the event path latched off; the batch run decides the rest"
    elif summary.totals.failed or report.events.refused:
        summary.status = RunStatus.FAILED
        summary.error = f"refused: {report.events.refused}" if report.events.refused else None
    else:
        summary.status = RunStatus.SUCCEEDED
