"""`syncpurge` command line: the same engine the state machine runs, against any S3 endpoint.

Exit codes: 0 SUCCEEDED or DRY_RUN; 1 run failed or an entry failed; 2 invalid input or
preflight refusal (nothing deleted); 3 GUARD_TRIPPED (nothing deleted).
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence
from pathlib import Path
from xml.etree.ElementTree import ParseError

from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from rich.console import Console

from syncpurge import __version__
from syncpurge.cli.aws_errors import aws_problem
from syncpurge.cli.bucket_policy import add_bucket_policy_parser
from syncpurge.cli.erase import add_erase_parser
from syncpurge.cli.events import add_events_parser
from syncpurge.cli.flags import add_aws_flags, check_connection_flags
from syncpurge.cli.parsing import CommandParser, top_parser, worker_count
from syncpurge.cli.receipts import add_receipt_parser
from syncpurge.cli.reconcile import run_reconcile
from syncpurge.cli.reports import add_reports_parser
from syncpurge.cli.start import add_start_erase_flags, run_start
from syncpurge.cli.terminal import (  # exit codes re-exported: callers import them from here
    EXIT_FAILED,
    EXIT_GUARD,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_OK,
    CliError,
    say,
)
from syncpurge.engine import DEFAULT_WORKERS, MAX_WORKERS
from syncpurge.errors import InvalidInput, PreflightRefused

__all__ = ["EXIT_FAILED", "EXIT_GUARD", "EXIT_INVALID", "EXIT_OK", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = top_parser(prog="syncpurge", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"syncpurge {__version__}")
    commands = parser.add_subparsers(
        dest="command",
        required=True,
        parser_class=CommandParser,
    )

    rec = commands.add_parser(
        "reconcile",
        help="diff a source and a target versioned bucket and purge the target's leftovers",
    )
    for side in ("source", "target"):
        rec.add_argument(
            f"--{side}-bucket",
            metavar="BUCKET",
            help=f"the {side} bucket, by name or as an s3:// path; a path's prefix limits the "
            "run to it, and must be the same on both sides (default: the --task-arn task's)",
        )
    rec.add_argument(
        "--task-arn",
        metavar="ARN",
        help="a DataSync task: its buckets, Subdirectories, Includes/Excludes and report "
        "destination set the scope, and its task reports give lineage (default: none; "
        "give --source-bucket and --target-bucket)",
    )
    add_request_flags(rec)
    rec.add_argument(
        "--report",
        metavar="DIR|S3URI",
        help="folder or s3://bucket/prefix/; the run's files go under <report>/<run-id>/ "
        "(default: the task's report destination, else ./syncpurge-reports)",
    )
    rec.add_argument(
        "--break-lock",
        action="store_true",
        help="remove the target's run lock (s3://TARGET/.syncpurge/cli-run.lock) a killed run left",
    )
    for side in ("source", "target"):
        rec.add_argument(
            f"--{side}-account",
            metavar="ACCOUNT_ID",
            help=f"the account that must own the {side} bucket: every request on it carries "
            "ExpectedBucketOwner, and a bucket owned by another account is refused (default "
            "with --task-arn: the caller's account; else not checked, for S3-compatible "
            "endpoints without the header)",
        )
        rec.add_argument(
            f"--{side}-region",
            metavar="REGION",
            help=f"the {side} bucket's Region: its requests are signed for it (default: asked "
            "of the bucket once, by HeadBucket)",
        )
    rec.add_argument(
        "--report-account",
        metavar="ACCOUNT_ID",
        help="the account that must own an s3:// --report bucket: every request on it "
        "carries ExpectedBucketOwner, and a bucket owned by another account is refused "
        "(default with --task-arn: the caller's account; else not checked)",
    )
    add_aws_flags(rec)
    rec.add_argument(
        "--workers",
        type=worker_count,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"run N of the run's work items at once: the key ranges its diff is cut into, "
        f"and the parts of its purge, as the state machine's Maps run them (1 to "
        f"{MAX_WORKERS}) (default {DEFAULT_WORKERS}: enough to keep a laptop's core busy "
        "against S3's 0.1 to 0.3 s a listing page)",
    )
    rec.add_argument("--json", action="store_true", help="print exactly summary.json on stdout")
    rec.add_argument(
        "--show",
        type=int,
        default=20,
        metavar="N",
        help="a run that deletes nothing (--dry-run, or a tripped guard) lists its first N "
        "planned entries, then the command that applies its plan",
    )
    rec.set_defaults(handler=run_reconcile)

    start = commands.add_parser(
        "start", help="start the deployed state machine with a request, follow it, report"
    )
    start.add_argument(
        "--state-machine-arn", metavar="ARN", required=True, help="the deployed state machine"
    )
    add_request_flags(start)
    start.add_argument("--skip-sync", action="store_true", help="do not run the DataSync task")
    start.add_argument(
        "--input",
        metavar="JSON",
        help="a whole request (docs/design.md §7) as JSON; the flags above override its "
        "fields (default: the flags alone)",
    )
    add_start_erase_flags(start)
    start.add_argument(
        "--no-follow", action="store_true", help="print the execution ARN and return at once"
    )
    add_aws_flags(start)
    start.add_argument("--json", action="store_true", help="print exactly summary.json on stdout")
    start.set_defaults(handler=run_start)

    add_reports_parser(commands)
    add_erase_parser(commands)
    add_receipt_parser(commands)
    add_bucket_policy_parser(commands)
    add_events_parser(commands)

    demo = commands.add_parser(
        "demo", help="the whole workflow on an embedded moto (no AWS account): the seed's Case 2"
    )
    demo.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        default=Path("syncpurge-demo-reports"),
        help="the local folder each run's report files go to",
    )
    story = demo.add_mutually_exclusive_group()
    story.add_argument(
        "--events",
        action="store_true",
        help="the event path instead: a version erased at the source leaves the target in "
        "seconds, with its proof",
    )
    story.add_argument(
        "--erase",
        action="store_true",
        help="an erasure instead: a subject's files erased from two copies with a signed "
        "receipt, then a restore from backup caught by erase --check",
    )
    demo.set_defaults(handler=run_demo_command)
    return parser


def add_request_flags(parser: argparse.ArgumentParser) -> None:
    """The §7 request fields as flags; `reconcile` has them all."""
    parser.add_argument(
        "--prefix",
        action="append",
        dest="prefixes",
        metavar="PREFIX",
        help="limit the run to this key prefix (repeatable), as a prefix or as "
        "s3://BUCKET/PREFIX/ in the source or the target (default: the whole scope)",
    )
    parser.add_argument(
        "--mode",
        choices=["datasync", "replication"],
        help="how the target is kept in sync, which sets the rules' proofs and the grace "
        "(default: datasync)",
    )
    parser.add_argument(
        "--rules",
        metavar="RULE,...",
        help="comma-separated, of vanished-key, orphan-version, orphan-marker (default: all three)",
    )
    parser.add_argument("--dry-run", action="store_true", help="plan and report; delete nothing")
    parser.add_argument(
        "--grace-minutes",
        type=int,
        metavar="N",
        help="entries written less than N minutes before the run are never judged (default: "
        "0 in datasync mode, 15 in replication mode)",
    )
    parser.add_argument(
        "--max-purge",
        type=int,
        metavar="N",
        help="the guard: a plan of more than N entries deletes nothing (default 100000)",
    )
    parser.add_argument(
        "--max-purge-fraction",
        type=float,
        metavar="F",
        help="the guard: a plan of more than F of the target's entries in scope deletes "
        "nothing (default 0.05). The summary's guard line gives both: e.g. '425 planned ≤ "
        "maxPurge 100,000, and ≤ 425 (maxPurgeFraction 5%% of 8,500 target entries in "
        "scope)'",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="override the guard (applying a reviewed plan with --apply-plan needs no --force)",
    )
    parser.add_argument(
        "--bypass-governance",
        action="store_true",
        help="delete GOVERNANCE-locked versions (needs s3:BypassGovernanceRetention)",
    )
    parser.add_argument(
        "--apply-plan",
        metavar="RUN_ID",
        help="purge exactly the plan an earlier run stored: each entry is re-checked first "
        "(what no longer qualifies is skipped, nothing is added), and the guard is not applied "
        "again (applying the reviewed plan approves it; the summary shows the plan's own "
        "guard) (default: plan anew)",
    )
    parser.add_argument(
        "--allow-unrelated-source",
        action="store_true",
        help="run even if the source is empty in scope or shares no key with the target",
    )
    parser.add_argument(
        "--override-preserve",
        action="store_true",
        help="purge even though the --task-arn task keeps files deleted at the source "
        "(PreserveDeletedFiles=PRESERVE); without it such a run only plans",
    )


def run_demo_command(args: argparse.Namespace, err_console: Console) -> int:
    try:
        from syncpurge_local.demo import run_demo
        from syncpurge_local.erase_demo import run_erase_demo
        from syncpurge_local.event_demo import run_event_demo
    except ImportError as err:  # moto is an extra: syncpurge[local]
        raise CliError(
            f"the demo needs the local runtime: pip install 'syncpurge[local]' ({err})"
        ) from err
    if args.events:
        return run_event_demo(args.report_dir, Console())
    if args.erase:
        return run_erase_demo(args.report_dir, Console())
    return run_demo(args.report_dir, Console())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Messages are one line each, whatever the width: wrapped at 80 columns off a terminal,
    # an error line would be several in a log (and a shell command printed would break).
    err_console = Console(stderr=True, soft_wrap=True)
    try:
        check_connection_flags(args)
        code: int = args.handler(args, err_console)
    except (InvalidInput, PreflightRefused) as err:
        # PreflightRefused here: a bucket the command reads refused it (its owner, a 403)
        say(err_console, "invalid input" if isinstance(err, InvalidInput) else "refused", str(err))
        return EXIT_INVALID
    except CliError as err:
        say(err_console, "error", str(err))
        return err.code
    except ProfileNotFound as err:
        say(err_console, "invalid input", f"--profile: {err}")
        return EXIT_INVALID
    except (BotoCoreError, ClientError, ParseError) as err:
        problem = aws_problem(err, args)
        if problem is None:
            raise
        code, message = problem
        say(err_console, "error", message)
        return code
    except KeyboardInterrupt:
        say(err_console, "interrupted", "stopped by Ctrl-C")
        return EXIT_INTERRUPTED
    return code


# Young objects between two of the collector's passes. Parsing a 1,000-entry listing page
# makes ~20,000 objects that die with the page: at Python's default (700) the collector ran
# ~30 times a page and took ~40 % of its CPU (tests/benchmarks/bench_listing_cpu.py).
YOUNG_OBJECTS_PER_COLLECTION = 50_000


def command(argv: Sequence[str] | None = None) -> int:
    """The `syncpurge` command: `main` in a process of its own, whose garbage is collected
    rarely, and never again walks what was loaded before the run (the service models
    botocore loaded), so that a long run's CPU goes to its pages, not to the collector."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS_PER_COLLECTION, middle, old)
    return main(argv)


if __name__ == "__main__":
    raise SystemExit(command())
