"""`syncpurge` command line: the same engine the state machine runs, against any S3 endpoint.

Exit codes: 0 SUCCEEDED or DRY_RUN; 1 run failed or an entry failed; 2 invalid input or
preflight refusal (nothing deleted); 3 GUARD_TRIPPED (nothing deleted).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ProfileNotFound
from rich.console import Console

from syncpurge import __version__
from syncpurge.apply import read_stored_plan
from syncpurge.cli.flags import add_aws_flags, check_connection_flags
from syncpurge.cli.lock import LOCK_PREFIX, TargetLock
from syncpurge.cli.reports import add_reports_parser
from syncpurge.cli.start import run_start
from syncpurge.cli.terminal import (  # exit codes re-exported: callers import them from here
    EXIT_FAILED,
    EXIT_GUARD,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    FLAG_OF_FIELD,
    CliError,
    RichProgress,
    exit_code_for,
    output_console,
    render_summary,
    request_doc,
    say,
)
from syncpurge.data.aws import DataSyncGateway, caller_account, make_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store, make_s3_client
from syncpurge.engine import new_run_id, reconcile
from syncpurge.errors import AlreadyRunning, InvalidInput, PreflightRefused
from syncpurge.lineage import LineageIndex, read_task_reports, report_prefix
from syncpurge.models import (
    ReconcileRequest,
    parse_request,
)
from syncpurge.report import (
    LocalReportDestination,
    ReportDestination,
    S3ReportDestination,
    split_s3_uri,
    write_started,
)
from syncpurge.scope import Scope, split_patterns

__all__ = ["EXIT_FAILED", "EXIT_GUARD", "EXIT_INVALID", "EXIT_OK", "main"]


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own exit code is 2 too, keep it
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


EPILOG = """exit codes:
  0    SUCCEEDED or DRY_RUN
  1    the run failed, or an entry failed to delete
  2    invalid input or a preflight refusal (nothing was deleted)
  3    GUARD_TRIPPED (nothing was deleted; --force or a larger --max-purge /
       --max-purge-fraction lets it through)
  130  stopped by Ctrl-C (the partial report and journal are written)"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Defaults in --help (where there is one to show), the exit-code epilog as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


class _CommandParser(_ArgumentParser):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        kwargs.setdefault("epilog", EPILOG)
        super().__init__(**kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="syncpurge",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"syncpurge {__version__}")
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=_CommandParser,
    )

    rec = commands.add_parser(
        "reconcile",
        help="diff a source and a target versioned bucket and purge the target's leftovers",
    )
    rec.add_argument("--source-bucket", help="the source bucket (or take it from --task-arn)")
    rec.add_argument("--target-bucket", help="the target bucket (or take it from --task-arn)")
    rec.add_argument(
        "--task-arn",
        help="a DataSync task: its buckets, Subdirectories, Includes/Excludes and report "
        "destination set the scope, and its task reports give lineage",
    )
    add_request_flags(rec)
    rec.add_argument(
        "--report",
        help="folder or s3://bucket/prefix; the run's files go under <report>/<run-id>/ "
        "(default: the task's report destination, else ./syncpurge-reports)",
    )
    rec.add_argument(
        "--break-lock",
        action="store_true",
        help="remove the target's run lock (s3://TARGET/.syncpurge/cli-run.lock) a killed run left",
    )
    rec.add_argument("--endpoint-url", help="S3 endpoint (any S3-compatible service)")
    for side in ("source", "target"):
        rec.add_argument(
            f"--{side}-account",
            metavar="ACCOUNT_ID",
            help=f"the account that must own the {side} bucket: every request on it carries "
            "ExpectedBucketOwner, and a bucket owned by another account is refused (default "
            "with --task-arn: the caller's account; else not checked, for S3-compatible "
            "endpoints without the header)",
        )
    add_aws_flags(rec)
    rec.add_argument("--json", action="store_true", help="print exactly summary.json on stdout")
    rec.set_defaults(handler=run_reconcile)

    start = commands.add_parser(
        "start", help="start the deployed state machine with a request, follow it, report"
    )
    start.add_argument("--state-machine-arn", required=True)
    add_request_flags(start)
    start.add_argument("--skip-sync", action="store_true", help="do not run the DataSync task")
    start.add_argument(
        "--input",
        metavar="JSON",
        help="a whole request (DESIGN §7) as JSON; the flags above override its fields",
    )
    start.add_argument(
        "--no-follow", action="store_true", help="print the execution ARN and return at once"
    )
    add_aws_flags(start)
    start.add_argument("--json", action="store_true", help="print exactly summary.json on stdout")
    start.set_defaults(handler=run_start)

    add_reports_parser(commands)

    demo = commands.add_parser(
        "demo", help="the whole workflow on an embedded moto (no AWS account): the seed's Case 2"
    )
    demo.add_argument(
        "--report-dir",
        type=Path,
        default=Path("syncpurge-demo-reports"),
        help="where each run's report files go (default ./syncpurge-demo-reports)",
    )
    demo.set_defaults(handler=run_demo_command)
    return parser


def add_request_flags(parser: argparse.ArgumentParser) -> None:
    """The §7 request fields as flags; `reconcile` has them all."""
    parser.add_argument(
        "--prefix",
        action="append",
        dest="prefixes",
        metavar="P",
        help="limit to this prefix (repeatable); default the whole bucket",
    )
    parser.add_argument("--mode", choices=["datasync", "replication"])
    parser.add_argument(
        "--rules", help="comma-separated: vanished-key,orphan-version,orphan-marker"
    )
    parser.add_argument("--dry-run", action="store_true", help="plan and report; delete nothing")
    parser.add_argument("--grace-minutes", type=int, metavar="N")
    parser.add_argument("--max-purge", type=int, metavar="N")
    parser.add_argument("--max-purge-fraction", type=float, metavar="F")
    parser.add_argument("--force", action="store_true", help="override the guard")
    parser.add_argument(
        "--bypass-governance",
        action="store_true",
        help="delete GOVERNANCE-locked versions (needs s3:BypassGovernanceRetention)",
    )
    parser.add_argument(
        "--apply-plan",
        metavar="RUN_ID",
        help="purge exactly the plan an earlier run stored (each entry re-checked first)",
    )
    parser.add_argument(
        "--allow-unrelated-source",
        action="store_true",
        help="run even if the source is empty in scope or shares no key with the target",
    )


def request_from_args(args: argparse.Namespace) -> ReconcileRequest:
    return parse_request(request_doc(args), FLAG_OF_FIELD)


def report_destination(report: str, run_id: str, store_for_s3: S3Store) -> ReportDestination:
    if report.startswith("s3://"):
        bucket, prefix = split_s3_uri(report)
        return S3ReportDestination(store_for_s3, bucket, f"{prefix}{run_id}/")
    return LocalReportDestination(Path(report) / run_id)


@dataclass(frozen=True)
class ReconcileTarget:
    """What a `reconcile` invocation runs against, from its flags and (maybe) its task."""

    source_bucket: str
    target_bucket: str
    scope: Scope
    report: str
    lineage: tuple[str, str] | None  # (bucket, prefix) of the task's detailed reports


def resolve_target(args: argparse.Namespace) -> ReconcileTarget:
    facts = None
    if args.task_arn:
        gateway = DataSyncGateway(make_client("datasync", region=args.region, profile=args.profile))
        try:
            facts = gateway.task_facts(args.task_arn)
        except PreflightRefused as err:
            raise CliError(f"--task-arn: {err}") from err
    source = args.source_bucket or (facts.source.bucket if facts else None)
    target = args.target_bucket or (facts.target.bucket if facts else None)
    if not source or not target:
        raise CliError("--source-bucket and --target-bucket are required without --task-arn")
    if facts is not None and (source, target) != (facts.source.bucket, facts.target.bucket):
        raise CliError(
            f"--task-arn copies s3://{facts.source.bucket} to s3://{facts.target.bucket}, not "
            f"s3://{source} to s3://{target}"
        )
    report = args.report
    if report is None and facts is not None and facts.report_bucket:
        report = (
            f"s3://{facts.report_bucket}/{facts.report_subdirectory}Purge-Reports/{facts.task_id}/"
        )
    report = report or "syncpurge-reports"
    excluded: list[str] = [LOCK_PREFIX]  # the run lock lives in the target (syncpurge.cli.lock)
    if report.startswith("s3://"):
        bucket, prefix = split_s3_uri(report)
        if bucket == target:
            excluded.append(prefix)
    lineage = None
    if facts is not None and facts.report_bucket:
        lineage = (facts.report_bucket, report_prefix(facts.report_subdirectory, facts.task_id))
        if facts.report_bucket == target:
            excluded.append(facts.report_subdirectory)
    scope = Scope(
        source_root=facts.source.subdirectory if facts else "",
        target_root=facts.target.subdirectory if facts else "",
        includes=split_patterns(facts.includes) if facts else (),
        excludes=split_patterns(facts.excludes) if facts else (),
        excluded_target_prefixes=tuple(sorted(set(excluded))),
    )
    return ReconcileTarget(source, target, scope, report, lineage)


def expected_owners(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The accounts that must own the source and the target: the flags, else, for a
    DataSync task (so on AWS), the caller's own account; else none (not checked)."""
    source, target = args.source_account, args.target_account
    if args.task_arn and (source is None or target is None):
        caller = caller_account(region=args.region, profile=args.profile)
        source, target = source or caller, target or caller
    return source, target


def write_problem(err: OSError | ClientError) -> str:
    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', err)}"
    where = f": {err.filename}" if err.filename else ""
    return f"{err.strerror or type(err).__name__}{where}"


def run_reconcile(args: argparse.Namespace, err_console: Console) -> int:
    request = request_from_args(args)
    where = resolve_target(args)
    counter = RequestCounter()
    connection = {"region": args.region, "endpoint_url": args.endpoint_url, "profile": args.profile}
    source = S3Store(make_s3_client(**connection), counter)
    target = S3Store(make_s3_client(**connection), counter)
    source_owner, target_owner = expected_owners(args)
    source.expect_owners({where.source_bucket: source_owner})
    target.expect_owners({where.target_bucket: target_owner})
    started = datetime.now(UTC)
    run_id = new_run_id(started)
    destination = report_destination(where.report, run_id, S3Store(target.client))
    report_bucket = split_s3_uri(where.report)[0] if where.report.startswith("s3://") else None
    if report_bucket == where.source_bucket:
        raise CliError(
            f"--report: {where.report} is in the source bucket; syncpurge never writes to the "
            "source (nothing was deleted)"
        )
    lineage = None
    if where.lineage is not None:
        lineage = LineageIndex(read_task_reports(S3Store(target.client), *where.lineage))
    stored_plan = None
    if args.apply_plan:
        stored_plan = read_stored_plan(
            where.report, args.apply_plan, S3Store(target.client), "--apply-plan"
        )
    started_doc = {
        "runId": run_id,
        "startedAt": started.isoformat(),
        "sourceBucket": where.source_bucket,
        "targetBucket": where.target_bucket,
    }
    try:
        write_started(destination, started_doc)
    except (OSError, ClientError) as err:
        raise CliError(
            f"--report: {destination.location} can't be written ({write_problem(err)}); "
            "nothing was deleted"
        ) from None
    lock = TargetLock(target, where.target_bucket, where.source_bucket)
    try:
        # Both buckets answer as their expected owners before the lock writes anything.
        source.versioning(where.source_bucket)
        lock.acquire(run_id, break_existing=args.break_lock)
    except (AlreadyRunning, PreflightRefused) as err:
        raise CliError(str(err)) from None
    try:
        with RichProgress(err_console) as progress:
            result = reconcile(
                request,
                source_bucket=where.source_bucket,
                target_bucket=where.target_bucket,
                source=source,
                target=target,
                destination=destination,
                progress=progress,
                run_id=run_id,
                now=started,
                scope=where.scope,
                report_bucket=report_bucket,
                lineage=lineage,
                stored_plan=stored_plan,
            )
    finally:
        lock.release()
    if args.json:
        sys.stdout.write(json.dumps(result.summary.to_document(), indent=2) + "\n")
    else:
        render_summary(output_console(), result.summary, destination.location)
    if result.refusal:
        say(err_console, "refused", f"{result.refusal} (nothing was deleted)")
    elif result.summary.error:
        say(err_console, "error", result.summary.error)
    if result.interrupted:
        return EXIT_INTERRUPTED
    return exit_code_for(result)


def run_demo_command(args: argparse.Namespace, err_console: Console) -> int:
    try:
        from syncpurge_local.demo import run_demo
    except ImportError as err:  # moto is an extra: syncpurge[local]
        raise CliError(
            f"the demo needs the local runtime: pip install 'syncpurge[local]' ({err})"
        ) from err
    return run_demo(args.report_dir, Console())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err_console = Console(stderr=True)
    try:
        check_connection_flags(args)
        code: int = args.handler(args, err_console)
    except InvalidInput as err:
        say(err_console, "invalid input", str(err))
        return EXIT_INVALID
    except CliError as err:
        say(err_console, "error", str(err))
        return err.code
    except ProfileNotFound as err:
        say(err_console, "invalid input", f"--profile: {err}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        say(err_console, "interrupted", "stopped by Ctrl-C")
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    raise SystemExit(main())
