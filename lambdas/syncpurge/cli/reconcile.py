"""`syncpurge reconcile`: the engine's run from the command line, against any S3 endpoint.

It resolves the buckets and the scope (from the flags or a DataSync task), the owners each
bucket must have, the report destination (written first) and the target's run lock, then
runs `syncpurge.engine.reconcile` and prints its summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError
from rich.console import Console

from syncpurge.cli.entries_view import PlanPreview, render_plan
from syncpurge.cli.flags import check_prefix_buckets
from syncpurge.cli.lock import TargetLock
from syncpurge.cli.progress import RunProgress
from syncpurge.cli.terminal import (
    EXIT_INTERRUPTED,
    FLAG_OF_FIELD,
    CliError,
    exit_code_for,
    output_console,
    render_summary,
    request_doc,
    say,
)
from syncpurge.core.policy import Place, PolicySettings, RunPolicy, build_policy
from syncpurge.core.run_ids import new_run_id
from syncpurge.data.aws import DataSyncGateway, TaskFacts, arn_home, caller_account
from syncpurge.data.clients import make_client, make_s3_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.engine import RunFolders, RunStores, reconcile
from syncpurge.errors import AlreadyRunning, InvalidInput, PreflightRefused
from syncpurge.models import Mode, ReconcileRequest, RunStatus, parse_request
from syncpurge.phases.preflight import check_readable
from syncpurge.phases.report import (
    split_s3_uri,
    write_started,
)
from syncpurge.workflow import Stores
from syncpurge.workflow.prepare import stored_request

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def request_from_args(args: argparse.Namespace) -> ReconcileRequest:
    return parse_request(request_doc(args), FLAG_OF_FIELD)


@dataclass(frozen=True)
class ReconcileTarget:
    """What a `reconcile` invocation runs against: its flags as the policy takes them, and
    (maybe) its task's facts."""

    settings: PolicySettings
    facts: TaskFacts | None

    @property
    def report(self) -> str:
        """The report root the flags or the task name (run folders go below it)."""
        assert self.settings.report is not None  # resolve_target always names one
        return self.settings.report.uri

    @property
    def source_bucket(self) -> str:
        return self.settings.source_bucket

    @property
    def target_bucket(self) -> str:
        return self.settings.target_bucket


def read_task(args: argparse.Namespace) -> TaskFacts | None:
    return task_facts(args, args.task_arn) if args.task_arn else None


def task_facts(args: argparse.Namespace, task_arn: str) -> TaskFacts:
    """A --task-arn task's locations, filters and report destination."""
    # A task is read in its own Region, and only by its own account (DataSync has no
    # resource policies): the caller must be that account.
    task_region, task_account = arn_home(task_arn)
    caller = caller_account(region=args.region, profile=args.profile)
    if caller != task_account:
        raise CliError(
            f"--task-arn: the task is in account {task_account}, and these credentials are "
            f"account {caller}: run with that account's credentials (--profile); the "
            "buckets may be in other accounts (--source-account / --target-account)"
        )
    client = make_client("datasync", region=task_region or args.region, profile=args.profile)
    try:
        return DataSyncGateway(client).task_facts(task_arn)
    except PreflightRefused as err:
        raise CliError(f"--task-arn: {err}") from err


def resolve_target(args: argparse.Namespace, request: ReconcileRequest) -> ReconcileTarget:
    facts = read_task(args)
    source = args.source_bucket or (facts.source.bucket if facts else None)
    target = args.target_bucket or (facts.target.bucket if facts else None)
    if not source or not target:
        raise CliError("--source-bucket and --target-bucket are required without --task-arn")
    check_prefix_buckets(args, source, target)  # a --prefix s3:// path's, once known
    report = args.report
    if report is None and facts is not None and facts.report_bucket:
        report = (
            f"s3://{facts.report_bucket}/{facts.report_subdirectory}Purge-Reports/{facts.task_id}/"
        )
    named = "--report" if args.report else "--task-arn (its task report destination)"
    report = report or "syncpurge-reports"
    source_owner, target_owner, report_owner = expected_owners(args)
    settings = PolicySettings(
        source_bucket=source,
        target_bucket=target,
        mode=request.mode,  # the CLI's flags are its settings
        mode_setting="--mode",
        source_account=source_owner or "",
        target_account=target_owner or "",
        report_account=report_owner or "",
        report=report_root(report, named),
    )
    return ReconcileTarget(settings, facts)


def report_root(report: str, named: str) -> Place:
    """--report as a place run folders go below: s3://bucket/prefix/ or a local folder."""
    if report.startswith("s3://"):
        return Place(*split_s3_uri(report), setting=named)
    if not Path(report).resolve().name:  # run folders go in a folder of their own
        raise CliError(f"{named}: {report} is the file system's root: give a folder below it")
    return Place(None, f"{Path(report)}/", setting=named)


def expected_owners(args: argparse.Namespace) -> tuple[str | None, str | None, str | None]:
    """The accounts that must own the source, the target and an S3 report bucket: the
    flags, else, for a DataSync task (so on AWS), the caller's own account, which is the
    task's (`resolve_target` refuses any other caller); else none (not checked)."""
    owners = [args.source_account, args.target_account, args.report_account]
    if args.task_arn:
        task_account = arn_home(args.task_arn)[1]
        owners = [owner or task_account for owner in owners]
    source, target, report = owners
    return source, target, report


def open_stores(
    args: argparse.Namespace,
    where: ReconcileTarget,
    report_bucket: str | None,
    lineage: Place | None,
) -> tuple[S3Store, S3Store, S3Store]:
    """The source's, the target's and the reports' stores, one request counter for the
    source and the target; each bucket carries its expected owner and is called in its own
    Region (the flag, else asked of the bucket once)."""
    connection = {"endpoint_url": args.endpoint_url, "profile": args.profile}

    def regional(region: str) -> S3Client:
        return make_s3_client(region=region, **connection)

    counter = RequestCounter()
    source = S3Store(make_s3_client(region=args.region, **connection), counter, regional=regional)
    target = S3Store(make_s3_client(region=args.region, **connection), counter, regional=regional)
    reports = S3Store(make_s3_client(region=args.region, **connection), regional=regional)
    owners = where.settings.owners()
    for store in (source, target, reports):
        store.expect_owners(owners)
    source_region = args.source_region or source.find_region(where.source_bucket)
    target_region = args.target_region or target.find_region(where.target_bucket)
    regions = {where.source_bucket: source_region, where.target_bucket: target_region}
    source.place({where.source_bucket: source_region})
    target.place({where.target_bucket: target_region})
    for bucket in (report_bucket, lineage.bucket if lineage else None):
        if bucket is not None:
            reports.place({bucket: regions.get(bucket) or reports.find_region(bucket)})
    return source, target, reports


def applied_plan_policy(
    args: argparse.Namespace, where: ReconcileTarget, applied: ReconcileRequest, run_id: str
) -> RunPolicy:
    """The policy of a run that applies a stored plan: built, as any run's, from the
    request it runs, which is the stored plan's own (its mode, rules and prefixes:
    `workflow.prepare.stored_request`), so the policy checks the plan's prefixes and mode
    before anything is listed. A --mode given is this run's setting, as a deployment's
    mode is its; without one, the plan's mode."""
    mode = Mode(args.mode) if args.mode is not None else applied.mode
    settings = dataclasses.replace(where.settings, mode=mode)
    try:
        return build_policy(settings, where.facts, applied, run_id=run_id)
    except PreflightRefused as err:
        raise CliError(f"{err} (nothing was deleted)") from None


def release_lock(lock: TargetLock, err_console: Console) -> None:
    """Release the run's lock; a failure is reported, never taken for the run's outcome
    (the run may have purged: its exit code and report stand)."""
    try:
        lock.release()
    except ClientError as err:
        say(
            err_console,
            "warning",
            f"the run lock s3://{lock.bucket}/{lock.key} could not be released "
            f"({write_problem(err)}); the next run on this target needs --break-lock",
        )


def write_problem(err: OSError | ClientError) -> str:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', err)}"
    where = f": {err.filename}" if err.filename else ""
    return f"{err.strerror or type(err).__name__}{where}"


# The flags that reach the same buckets, task, report and accounts, and set what a re-check
# uses (grace) or what a purge may do: an applying run takes them as the planning run did.
# Not the guard's (an applied plan is not guarded again), nor the scope's or rules' (the
# stored plan's own are used), nor --dry-run / --json / --break-lock / --show.
APPLY_VALUE_FLAGS = (
    "task_arn",
    "source_bucket",
    "target_bucket",
    "report",
    "endpoint_url",
    "region",
    "profile",
    "source_account",
    "target_account",
    "report_account",
    "source_region",
    "target_region",
    "mode",
    "grace_minutes",
)
APPLY_SWITCHES = ("allow_unrelated_source", "bypass_governance", "override_preserve")


def apply_command(args: argparse.Namespace, run_id: str) -> list[list[str]]:
    """The command that applies run `run_id`'s stored plan, reached as this run was: as
    shell words, a flag and its value together."""
    groups = [["syncpurge", "reconcile"]]
    for dest in APPLY_VALUE_FLAGS:
        value = getattr(args, dest, None)
        if value is not None:
            groups.append([f"--{dest.replace('_', '-')}", str(value)])
    groups += [[f"--{dest.replace('_', '-')}"] for dest in APPLY_SWITCHES if getattr(args, dest)]
    groups.append(["--apply-plan", run_id])
    return groups


def run_reconcile(args: argparse.Namespace, err_console: Console) -> int:
    request = request_from_args(args)
    show = getattr(args, "show", 20)
    if show < 0:
        raise CliError(f"--show: {show} is negative; give how many planned entries to list")
    where = resolve_target(args, request)
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    try:
        policy = build_policy(where.settings, where.facts, request, run_id=run_id)
    except PreflightRefused as err:
        raise CliError(f"{err} (nothing was deleted)") from None
    report_bucket = policy.report.bucket
    source, target, reports = open_stores(args, where, report_bucket, policy.lineage)
    assert where.settings.report is not None  # resolve_target always names one
    folders = RunFolders.under(where.settings.report, run_id, reports)
    destination = folders.destination
    if args.apply_plan:
        try:
            applied = stored_request(
                Stores(reports, files=folders.files),
                folders.workspace,
                args.apply_plan,
                policy.request,
                setting="--apply-plan",
            )
        except InvalidInput as err:
            raise CliError(str(err)) from None
        policy = applied_plan_policy(args, where, applied, run_id)
    started_doc = {
        "runId": run_id,
        "startedAt": started.isoformat(),
        "sourceBucket": where.source_bucket,
        "targetBucket": where.target_bucket,
    }
    try:
        write_started(destination, started_doc)
    except (OSError, ClientError) as err:
        owner = where.settings.report_account
        expected = f"; it must be a bucket of account {owner} (--report-account)" if owner else ""
        raise CliError(
            f"--report: {folders.shown} can't be written ({write_problem(err)}"
            f"{expected}); nothing was deleted"
        ) from None
    lock = TargetLock(target, where.target_bucket, where.source_bucket)
    try:
        # Both buckets answer as their expected owners, and to the calls a run makes, before
        # the lock writes anything.
        check_readable(source, where.source_bucket, "source")
        check_readable(target, where.target_bucket, "target")
        lock.acquire(run_id, break_existing=args.break_lock)
    except (AlreadyRunning, PreflightRefused) as err:
        raise CliError(str(err)) from None
    try:
        preview = PlanPreview(show)
        with RunProgress(err_console, preview) as progress:
            result = reconcile(
                policy,
                stores=RunStores(source, target, reports),
                folders=folders,
                progress=progress,
                run_id=run_id,
                now=started,
                workers=args.workers,
            )
    finally:
        release_lock(lock, err_console)
    if args.json:
        sys.stdout.write(json.dumps(result.summary.to_document(), indent=2) + "\n")
    else:
        console = output_console()
        render_summary(console, result.summary, folders.shown)
        if result.refusal is None and result.summary.status in (
            RunStatus.DRY_RUN,
            RunStatus.GUARD_TRIPPED,
        ):
            command = apply_command(args, result.summary.run_id)
            render_plan(console, preview, folders.shown, command)
    if result.refusal:
        say(err_console, "refused", f"{result.refusal} (nothing was deleted)")
    elif result.summary.error:
        say(err_console, "error", result.summary.error)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return exit_code_for(result)
