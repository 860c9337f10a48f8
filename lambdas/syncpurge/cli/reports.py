"""`syncpurge reports list|show`: past runs read from a report destination (a folder,
s3://bucket/prefix, or the deployed stack's ReportLocation output)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from syncpurge.cli.flags import add_aws_flags, connection
from syncpurge.cli.terminal import CliError, output_console, render_summary
from syncpurge.data.aws import StackOutputs
from syncpurge.data.clients import make_client, make_s3_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.errors import PreflightRefused
from syncpurge.models import Summary
from syncpurge.report import split_s3_uri


def add_reports_parser(commands: Any) -> None:
    reports = commands.add_parser("reports", help="list past runs, or show one run's summary")
    actions = reports.add_subparsers(dest="action", required=True, metavar="{list,show}")
    for name, summary in (
        ("list", "every run in the report destination, newest first"),
        ("show", "one run's summary"),
    ):
        action = actions.add_parser(name, help=summary)
        if name == "show":
            action.add_argument("run_id", metavar="RUN_ID")
        where = action.add_mutually_exclusive_group()
        where.add_argument(
            "--from",
            dest="location",
            metavar="DIR|s3://bucket/prefix",
            help="the report destination (default ./syncpurge-reports)",
        )
        where.add_argument("--stack", help="a deployed syncpurge stack: its ReportLocation")
        add_aws_flags(action)
        action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(handler=run_reports)


def run_reports(args: argparse.Namespace, err_console: Console) -> int:
    location = args.location or "syncpurge-reports"
    if args.stack:
        client = make_client("cloudformation", **connection(args))
        try:
            location = StackOutputs(client).get(args.stack, "ReportLocation")
        except PreflightRefused as err:
            raise CliError(str(err)) from None
    summaries = sorted(
        read_summaries(location, args), key=lambda found: found[0].started_at, reverse=True
    )
    if args.action == "show":
        chosen = [(s, where) for s, where in summaries if s.run_id == args.run_id]
        if not chosen:
            raise CliError(f"RUN_ID: no run {args.run_id!r} in {location}")
        summary, where = chosen[0]
        if args.json:
            sys.stdout.write(json.dumps(summary.to_document(), indent=2) + "\n")
        else:
            render_summary(output_console(), summary, where)
        return 0
    if args.json:
        sys.stdout.write(json.dumps([s.to_document() for s, _ in summaries], indent=2) + "\n")
        return 0
    table = Table(title=f"syncpurge runs in {location}")
    for column in ("run", "status", "started", "planned", "purged", "skipped", "failed"):
        table.add_column(column)
    for summary, _ in summaries:
        t = summary.totals
        table.add_row(
            summary.run_id + (f" (applied {summary.applied_plan})" if summary.applied_plan else ""),
            summary.status.value,
            summary.started_at.isoformat(timespec="seconds"),
            *(f"{n:,}" for n in (t.planned, t.purged, t.skipped, t.failed)),
        )
    output_console().print(table)
    if not summaries:
        err_console.print(f"no runs found in {location}")
    return 0


def read_summaries(location: str, args: argparse.Namespace) -> Iterator[tuple[Summary, str]]:
    """Every run's summary.json under `location`, with the run's folder."""
    if location.startswith("s3://"):
        bucket, prefix = split_s3_uri(location)
        store = S3Store(make_s3_client(**connection(args)), RequestCounter())
        for key in store.list_keys(bucket, prefix):
            if key.endswith("/summary.json"):
                body = store.get_bytes(bucket, key)
                yield _summary(body, key), f"s3://{bucket}/{key.removesuffix('summary.json')}"
        return
    folder = Path(location)
    if not folder.is_dir():
        raise CliError(f"--from: {location!r} is not a folder of syncpurge reports")
    for path in sorted(folder.rglob("summary.json")):
        yield _summary(path.read_bytes(), str(path)), str(path.parent)


def _summary(body: bytes, where: str) -> Summary:
    try:
        return Summary.model_validate(json.loads(body))
    except ValueError as err:
        raise CliError(f"{where} is not a syncpurge summary: {err}") from None
