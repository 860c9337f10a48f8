"""A prepared run driven step by step, the state machine's states in order, its Maps run
side by side on a pool of threads (`syncpurge.engine` prepares it: the CLI's driver)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from syncpurge.data.files import RunFiles
from syncpurge.data.s3store import S3Store
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.models import ReconcileRequest, RunStatus
from syncpurge.phases.diffing import ProgressListener
from syncpurge.phases.purge import OutcomeRecord, PurgeStopped
from syncpurge.phases.report import OutcomeTally, record_to_line, set_totals
from syncpurge.phases.side_by_side import run_side_by_side
from syncpurge.summary import Summary
from syncpurge.workflow import (
    Decision,
    DiffItemEvent,
    PlanEvent,
    PurgeItem,
    PurgeItemEvent,
    ReportEvent,
    RunContext,
    RunEvent,
    Stores,
    WorkItem,
    diff_step,
    guard,
    plan_step,
    purge_item,
    report,
)
from syncpurge.workflow.context import sum_json
from syncpurge.workflow.diff import Progress
from syncpurge.workflow.plan import WaveState
from syncpurge.workflow.report import FailureInfo

INTERRUPTED = "Interrupted"
INTERRUPTED_CAUSE = "interrupted (Ctrl-C): the entries sent before it are in the report"


@dataclass(slots=True)
class RunResult:
    summary: Summary
    # Set when the run was refused before anything could be deleted (exit code 2).
    refusal: str | None = None
    # Set when Ctrl-C stopped the run; its partial report and journal were still written.
    interrupted: bool = False


@dataclass(frozen=True, slots=True)
class RunStores:
    """The run's S3 stores: the source's, the target's, and the one that reads the task's
    reports (lineage) and any S3 report folder."""

    source: S3Store
    target: S3Store
    reports: S3Store

    def for_step(self, files: RunFiles) -> Stores:
        """Stores for one step: each counts its own requests, as a Lambda invocation's do,
        so the figures each step writes add up to the run's."""
        return Stores(
            self.reports.counted_apart(),
            source=self.source.counted_apart(),
            target=self.target.counted_apart(),
            files=files,
            keeps_state=False,
        )


class Pipeline:
    """One prepared run, driven step by step: the state machine's states, in order."""

    def __init__(
        self,
        run: RunContext,
        stores: RunStores,
        files: RunFiles,
        listener: ProgressListener,
        workers: int,
    ) -> None:
        self.run_context, self.stores, self.files = run, stores, files
        self.listener, self.workers = LockedProgress(listener), workers
        self.stop = threading.Event()

    def step_stores(self) -> Stores:
        return self.stores.for_step(self.files)

    def run(self) -> RunResult:
        run = self.run_context
        failure: FailureInfo | None = None
        refusal: str | None = None
        interrupted = purged = False
        try:
            self.diff()
            decision = Decision(guard(RunEvent(run=run), self.step_stores())["decision"])
            if decision is Decision.PURGE:
                purged = True
                self.purge()
        except (PreflightRefused, InvalidInput) as err:
            refusal = str(err)
            failure = FailureInfo(Error=type(err).__name__, Cause=refusal)
        except KeyboardInterrupt:
            interrupted = True
            failure = FailureInfo(Error=INTERRUPTED, Cause=INTERRUPTED_CAUSE)
        except Exception as err:
            failure = FailureInfo(Error=type(err).__name__, Cause=str(err))
        if not purged:  # the plan left in place is reported (and shown) entry by entry
            self.listener.phase("report")
        try:
            done = report(ReportEvent(run=run, error=failure), self.step_stores(), self.listener)
        except (OSError, ClientError) as err:  # the caller still has a summary to show
            where = self.files.shown(run.report.bucket, run.report.prefix)
            problem = f"the report could not be written to {where}: {err}"
            if failure is not None:
                problem = f"{failure.Error}: {failure.Cause}; {problem}"
            summary = unreported(run, problem)
            # what the purge did still stands: its outcomes as told, the plan's figures
            # if they can be read
            set_totals(summary, **self.figures(), tally=self.listener.purged)
            return RunResult(summary, refusal, interrupted)
        return RunResult(Summary.model_validate(done["summary"]), refusal, interrupted)

    # ------------------------------------------------------------------ Diff

    def diff(self) -> None:
        """Plan, then each wave of Diff items side by side, until Recut makes none."""
        run = self.run_context
        self.listener.phase("diff")
        wave = plan_step(PlanEvent(run=run), self.step_stores())
        if run.request.apply_plan:
            self.listener.to_recheck(int(wave.get("toRecheck", 0)))
        count = ItemCount(self.listener)
        while wave["count"]:
            items = [WorkItem.model_validate(doc) for doc in self.read_json(wave)]
            count.cut(len(items))
            self.side_by_side([self.diff_whole(item) for item in items], count.done, "diff")
            after = WaveState(wave=wave["wave"], next_index=wave["nextIndex"])
            wave = plan_step(PlanEvent(run=run, after_wave=after), self.step_stores())

    def diff_whole(self, item: WorkItem) -> Callable[[], None]:
        def diff_item() -> None:
            progress = Progress()
            while not progress.done:
                event = DiffItemEvent(run=self.run_context, item=item, progress=progress)
                state = diff_step(event, self.step_stores(), self.stop.is_set, self.listener)
                progress = Progress.model_validate(state)
                if not progress.done and self.stop.is_set():
                    raise PurgeStopped("the run stopped")

        return diff_item

    # ------------------------------------------------------------------ Purge

    def purge(self) -> None:
        run = self.run_context
        self.listener.phase("purge")
        listing = self.files.get_bytes(run.workspace.bucket, run.workspace.key("purge-items.json"))
        items = [PurgeItem.model_validate(doc) for doc in json.loads(listing)]
        self.listener.purging = True
        try:
            self.side_by_side([self.purge_whole(item) for item in items], None, "purge")
        finally:
            self.listener.purging = False

    def purge_whole(self, item: PurgeItem) -> Callable[[], None]:
        def purge() -> None:
            progress = Progress()
            while not progress.done:
                event = PurgeItemEvent(run=self.run_context, item=item, progress=progress)
                progress = purge_item(
                    event, self.step_stores(), None, self.listener, interrupted=self.stop.is_set
                ).progress
                if not progress.done and self.stop.is_set():
                    raise PurgeStopped("the run stopped")

        return purge

    # ------------------------------------------------------------------ helpers

    def side_by_side(
        self,
        pieces: Sequence[Callable[[], None]],
        on_result: Callable[[None], None] | None,
        name: str,
    ) -> None:
        run_side_by_side(
            pieces,
            workers=self.workers,
            stop=self.stop,
            on_result=on_result,
            stopped=(PurgeStopped,),
            name=f"syncpurge-{name}",
        )

    def figures(self) -> dict[str, int]:
        """The listing figures and the plan's size, as the Diff slices wrote them (zeros
        where they can't be read)."""
        try:
            figures = sum_json(self.step_stores(), self.run_context.workspace, "diff-stats/")
        except (OSError, ClientError, ValueError):
            figures = {}
        return {
            "source_entries": int(figures.get("sourceEntries", 0)),
            "target_entries": int(figures.get("targetEntries", 0)),
            "planned": int(figures.get("planned", 0)),
        }

    def read_json(self, written: dict[str, Any]) -> Any:
        return json.loads(self.files.get_bytes(written["bucket"], written["key"]))


class ItemCount:
    """Diff items done, of all cut so far (Recut adds the next wave's): `key ranges X of N`."""

    def __init__(self, listener: ProgressListener) -> None:
        self.listener, self.finished, self.total = listener, 0, 0

    def cut(self, items: int) -> None:
        self.total += items
        self.listener.ranges(self.finished, self.total)

    def done(self, _: None) -> None:
        self.finished += 1
        self.listener.ranges(self.finished, self.total)


class LockedProgress:
    """A listener told by one thread at a time (the CLI's RunProgress is safe as it is;
    a test's recorder need not be)."""

    def __init__(self, inner: ProgressListener) -> None:
        self.inner, self.lock = inner, threading.Lock()
        # What the purge did, entry by entry, as it was told: the run's own count, should
        # its report fail to be written.
        self.purged = OutcomeTally()
        self.purging = False

    def phase(self, name: str) -> None:
        with self.lock:
            self.inner.phase(name)

    def listed(self, side: str, entries: int) -> None:
        with self.lock:
            self.inner.listed(side, entries)

    def counted(self, side: str, entries: int) -> None:
        with self.lock:
            self.inner.counted(side, entries)

    def to_recheck(self, total: int) -> None:
        with self.lock:
            self.inner.to_recheck(total)

    def rechecked(self, entries: int) -> None:
        with self.lock:
            self.inner.rechecked(entries)

    def ranges(self, done: int, total: int) -> None:
        with self.lock:
            self.inner.ranges(done, total)

    def planned(self, item: Any) -> None:
        with self.lock:
            self.inner.planned(item)

    def outcome(self, record: OutcomeRecord) -> None:
        with self.lock:
            if self.purging:
                self.purged.add(record_to_line(record))
            self.inner.outcome(record)


def unreported(run: RunContext, error: str) -> Summary:
    """The summary of a prepared run whose report could not be written."""
    return failed_summary(
        run.request,
        run_id=run.run_id,
        pair=(run.config.source_bucket, run.config.target_bucket),
        scope=run.scope,
        started=run.config.start_time,
        error=error,
    )


def failed_summary(
    request: ReconcileRequest,
    *,
    run_id: str,
    pair: tuple[str, str],
    scope: dict[str, Any],
    started: datetime,
    error: str,
) -> Summary:
    """The summary of a run that failed before its report step could write one."""
    summary = Summary.begun(
        request,
        run_id=run_id,
        source_bucket=pair[0],
        target_bucket=pair[1],
        source_region="",
        target_region="",
        scope=scope,
        started_at=started,
    )
    summary.status, summary.error = RunStatus.FAILED, error
    summary.finished_at = datetime.now(UTC)
    return summary
