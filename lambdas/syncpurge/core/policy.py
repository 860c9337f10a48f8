"""One run policy for every front door (docs/design.md §14).

A run starts at the state machine (schedule, console, per prefix), the CLI or the event
path. Each door turns its own input into `PolicySettings` (a deployment's settings, or the
CLI's flags), reads its DataSync task if it has one, and calls `build_policy` — nothing
else decides the scope, the mode, the PreserveDeletedFiles verdict, approval, where
reports and the workspace may go, or the event path's hold and brake. A check one door
needs is added here, so every door makes it.

Pure: no I/O. The task's facts are read by the caller (`syncpurge.data.aws`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from syncpurge.core.lineage import report_prefix
from syncpurge.core.scope import Scope, split_patterns
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.models import Mode, ReconcileRequest

if TYPE_CHECKING:
    from syncpurge.data.aws import TaskFacts

REPORTS_PREFIX = "Purge-Reports/"
WORKSPACE_PREFIX = "syncpurge-work/"
# A deployment's state (the event path's brake and holds, the last verdict on its source):
# no run's report may lie in it.
STATE_PREFIX = "syncpurge-state/"
# Where a deployment's erasure requests keep their keys files (docs/erasure.md).
ERASURE_REQUESTS_PREFIX = "erasure-requests/"
# DataSync's own report folders beside ours, when its reports go to a bucket's root.
DATASYNC_REPORT_FOLDERS = ("Detailed-Reports/", "Summary-Reports/")
NO_TASK_ID = "no-task"
# The CLI's run lock lives in the target (syncpurge.cli.lock): never in any door's scope,
# or a state machine run would purge a running CLI run's lock as a vanished key.
LOCK_PREFIX = ".syncpurge/"


@dataclass(frozen=True)
class Place:
    """A folder reports or a workspace go to: `bucket` None is a local folder (the CLI's)."""

    bucket: str | None
    prefix: str  # "" or ends with "/" in a bucket; a path on the local disk
    setting: str = ""  # the setting or flag that named it, for refusals (e.g. "--report")

    @property
    def uri(self) -> str:
        return self.prefix if self.bucket is None else f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class PolicySettings:
    """What a door brings: a deployment's settings, or the CLI's flags."""

    source_bucket: str
    target_bucket: str
    mode: Mode = Mode.DATASYNC
    # The flag that set `mode` (the CLI's '--mode'), for refusals; "": a deployment's
    # setting 'mode'.
    mode_setting: str = ""
    # The deployment's `prefixes`: every request's scope lies under one of them; a request
    # that names none gets them all. () : the whole scope.
    prefixes: tuple[str, ...] = ()
    # A person approves every purge: a run that applies no reviewed plan only plans, and
    # the event path (unattended) purges nothing.
    require_approval: bool = False
    # The accounts that must own the buckets ("": not checked).
    source_account: str = ""
    target_account: str = ""
    report_account: str = ""
    # The deployment's report bucket (reports go there when the task writes none), or an
    # explicit place for the run folders (the CLI's --report).
    report_bucket: str | None = None
    report: Place | None = None
    # The event path's hold (minutes after a key's latest event) and brake (entries/hour).
    hold_minutes: int = 0
    max_purge_per_hour: int = 0

    def owners(self) -> dict[str, str | None]:
        """Bucket -> the account that must own it (ExpectedBucketOwner on every request)."""
        owners: dict[str, str | None] = {}
        for report_bucket in (self.report_bucket, self.report.bucket if self.report else None):
            if report_bucket:
                owners[report_bucket] = self.report_account or None
        owners[self.source_bucket] = self.source_account or None
        owners[self.target_bucket] = self.target_account or None
        return owners


@dataclass(frozen=True)
class RunPolicy:
    """Everything a run may do, decided once for its door."""

    settings: PolicySettings
    request: ReconcileRequest  # the deployment's prefixes filled in
    task_id: str
    scope: Scope
    report: Place  # the run's own folder (ends with '<run-id>/')
    workspace: Place | None
    lineage: Place | None  # the task's detailed reports, if it writes any
    preserve_deleted_files: str | None  # the task's setting, None without a task

    @property
    def preserve_blocks(self) -> bool:
        """The task keeps what the source deleted and the request did not override it."""
        return self.preserve_deleted_files == "PRESERVE" and not self.request.override_preserve

    @property
    def approval_withholds(self) -> bool:
        """A person must approve this run's purges: it applies no reviewed plan."""
        return self.settings.require_approval and self.request.apply_plan is None

    @property
    def advisories(self) -> tuple[str, ...]:
        """What the report says of the policy: the task's setting, and what withholds."""
        said: list[str] = []
        if self.preserve_deleted_files is not None:
            said.append(f"DataSync task PreserveDeletedFiles={self.preserve_deleted_files}")
        if self.preserve_blocks:
            said.append(
                "the DataSync task keeps files deleted at the source (PreserveDeletedFiles="
                "PRESERVE): nothing is purged; start with overridePreserve: true "
                "(--override-preserve) to purge anyway"
            )
        if self.approval_withholds:
            said.append(
                "this deployment requires approval (requireApproval): this run only plans; "
                'apply its plan with {"applyPlan": "<run-id>"} once reviewed'
            )
        return tuple(said)

    def unattended_refusal(self) -> str | None:
        """Why the event path, which nobody reviews, may purge nothing now (None: it may).
        The same verdicts a batch run gives: PRESERVE keeps, approval withholds."""
        if self.preserve_blocks:
            return (
                "the DataSync task keeps files deleted at the source (PreserveDeletedFiles="
                "PRESERVE): a batch run purges nothing here either"
            )
        if self.settings.require_approval:
            return (
                "this deployment requires approval (requireApproval): every purge is a "
                "reviewed plan applied by a person, never an event"
            )
        return None


def build_policy(
    settings: PolicySettings,
    facts: TaskFacts | None,
    request: ReconcileRequest,
    *,
    run_id: str,
    workspace: Place | None = None,
) -> RunPolicy:
    """The run's policy, or InvalidInput / PreflightRefused naming what is wrong. Nothing
    has been listed, written or deleted when it refuses."""
    check_mode(settings, request)
    if facts is not None:
        check_task_buckets(settings, facts)
    task_id = facts.task_id if facts else NO_TASK_ID
    report = report_place(settings, facts, task_id, run_id)
    if report.bucket is not None and report.prefix.startswith(STATE_PREFIX):
        named = f"{report.setting}: " if report.setting else ""
        raise InvalidInput(
            f"{named}the report destination {report.uri} lies in {STATE_PREFIX}, where a "
            "deployment keeps its state: choose another folder"
        )
    for place, what in ((report, "report destination"), (workspace, "run workspace")):
        if place is not None and place.bucket == settings.source_bucket:
            named = f"{place.setting}: " if place.setting else ""
            raise PreflightRefused(
                f"{named}the {what} {place.uri} is in the source bucket "
                f"{settings.source_bucket!r}: "
                "syncpurge never writes to the source; choose another bucket or a local folder"
            )
    scope = run_scope(settings, facts, report, workspace)
    scope.check()
    if request.erase is not None and settings.require_approval:
        # Every other run of such a deployment only plans until a person applies the plan;
        # an erasure has no plan to review, so this door refuses it whole.
        raise InvalidInput(
            "erase: this deployment requires approval of every purge (requireApproval), and "
            "an erasure deletes without a reviewed plan: run it with `syncpurge erase`, "
            "whose caller approves it, or deploy with requireApproval off"
        )
    request = within_deployment_prefixes(request, settings.prefixes)
    for prefix in request.prefixes:
        scope.check_prefix(prefix)
    return RunPolicy(
        settings=settings,
        request=request,
        task_id=task_id,
        scope=scope,
        report=report,
        workspace=workspace,
        lineage=lineage_place(facts),
        preserve_deleted_files=facts.preserve_deleted_files if facts else None,
    )


def check_mode(settings: PolicySettings, request: ReconcileRequest) -> None:
    """A door serves the mode its settings name; an applied plan keeps the mode it was
    made in, so a plan of another mode is refused."""
    if request.mode is settings.mode:
        return
    mode, asked = settings.mode.value, request.mode.value
    if settings.mode_setting and request.apply_plan:
        flag = settings.mode_setting
        raise InvalidInput(
            f"{flag} {mode}: run {request.apply_plan}'s plan was made in {asked} mode; "
            f"apply it with {flag} {asked}, or without {flag}"
        )
    raise InvalidInput(
        f"mode: this deployment runs in {mode} mode (its setting 'mode'), so it can't "
        f"serve a {asked}-mode request; omit 'mode' or deploy with -c mode={asked}"
    )


def check_task_buckets(settings: PolicySettings, facts: TaskFacts) -> None:
    actual = (facts.source.bucket, facts.target.bucket)
    if actual != (settings.source_bucket, settings.target_bucket):
        raise PreflightRefused(
            f"DataSync task {facts.task_id} copies s3://{actual[0]} to s3://{actual[1]}, not the "
            f"configured s3://{settings.source_bucket} to s3://{settings.target_bucket}"
        )


def within_deployment_prefixes(
    request: ReconcileRequest, allowed: tuple[str, ...]
) -> ReconcileRequest:
    """The request's prefixes inside the deployment's: all of them when it names none; a
    prefix outside every one of them is refused. An erasure names its own keys and takes no
    prefixes: the deployment's bind its keys where it runs (`workflow.erase.admitted`)."""
    if not allowed or request.erase is not None:
        return request
    if not request.prefixes:
        return request.model_copy(update={"prefixes": list(allowed)})
    for prefix in request.prefixes:
        if not prefix.startswith(allowed):
            raise InvalidInput(
                f"prefixes: {prefix!r} lies outside this deployment's prefixes "
                f"({', '.join(allowed)}; its setting 'prefixes'): nothing outside them is "
                "ever purged"
            )
    return request


def report_place(
    settings: PolicySettings, facts: TaskFacts | None, task_id: str, run_id: str
) -> Place:
    """The run's report folder: the explicit place, else beside the task's own reports when
    it writes any, else in the deployment's report bucket."""
    if settings.report is not None:
        given = settings.report
        return Place(given.bucket, f"{given.prefix}{run_id}/", given.setting)
    if facts is not None and facts.report_bucket:
        subdirectory = facts.report_subdirectory
        return Place(facts.report_bucket, f"{subdirectory}{REPORTS_PREFIX}{task_id}/{run_id}/")
    if settings.report_bucket is None:
        raise InvalidInput("a report destination is needed: no task report bucket is set")
    return Place(settings.report_bucket, f"{REPORTS_PREFIX}{task_id}/{run_id}/")


def lineage_place(facts: TaskFacts | None) -> Place | None:
    if facts is None or not facts.report_bucket:
        return None
    return Place(facts.report_bucket, report_prefix(facts.report_subdirectory, facts.task_id))


def run_scope(
    settings: PolicySettings, facts: TaskFacts | None, report: Place, workspace: Place | None
) -> Scope:
    """docs/design.md §3.1: the task's locations and filters, minus what syncpurge and DataSync
    write themselves in the target."""
    excluded = [LOCK_PREFIX]
    # An explicit report place claims its whole root, where every run's folder goes.
    report_root = (
        Place(settings.report.bucket, settings.report.prefix) if settings.report else report
    )
    for place in (report_root, workspace):
        if place is not None and place.bucket == settings.target_bucket:
            excluded.extend(report_roots(place.prefix))
    if facts is not None and facts.report_bucket == settings.target_bucket:
        excluded.extend(report_roots(f"{facts.report_subdirectory}{REPORTS_PREFIX}"))
    excluded_prefixes = tuple(sorted(set(excluded)))
    if facts is None:
        return Scope(excluded_target_prefixes=excluded_prefixes)
    return Scope(
        source_root=facts.source.subdirectory,
        target_root=facts.target.subdirectory,
        includes=split_patterns(facts.includes),
        excludes=split_patterns(facts.excludes),
        excluded_target_prefixes=excluded_prefixes,
    )


def report_roots(prefix: str) -> list[str]:
    """The folders a report or workspace location claims in its bucket.

    'sub/Purge-Reports/task/run/' -> ['sub/'] (DataSync's own reports live there too);
    'Purge-Reports/task/run/' at the root -> that and DataSync's report folders;
    'syncpurge-work/run/' -> ['syncpurge-work/']; anything else -> itself.
    """
    if prefix.startswith(WORKSPACE_PREFIX):
        return [WORKSPACE_PREFIX]
    at = prefix.find(REPORTS_PREFIX)
    if at > 0:
        return [prefix[:at]]
    if at == 0:
        return [REPORTS_PREFIX, *DATASYNC_REPORT_FOLDERS]
    return [prefix]
