"""`syncpurge reports list|show`: past runs read from a report destination (a folder,
s3://bucket/prefix, or the deployed stack's ReportLocation output)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from rich.console import Console

from syncpurge.cli.entries_view import print_entries
from syncpurge.cli.flags import add_aws_flags, connection
from syncpurge.cli.terminal import (
    INDENT,
    CliError,
    output_console,
    print_line,
    render_summary,
)
from syncpurge.core.plan import decode_lines, readable_line
from syncpurge.data.aws import StackOutputs
from syncpurge.data.clients import make_client, make_s3_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.erasure.receipt import Mismatch, Receipt, read_sealed
from syncpurge.errors import PreflightRefused
from syncpurge.phases.report import split_s3_uri
from syncpurge.summary import Summary
from syncpurge.workflow.context import WORKSPACE_PREFIX


def add_reports_parser(commands: Any) -> None:
    reports = commands.add_parser(
        "reports", help="list past runs, or show one run's summary, entries or plan"
    )
    actions = reports.add_subparsers(dest="action", required=True, metavar="{list,show}")
    for name, summary in (
        ("list", "every run in the report destination, newest first"),
        ("show", "one run's summary (or its entries, or its stored plan)"),
    ):
        action = actions.add_parser(name, help=summary)
        if name == "show":
            action.add_argument("run_id", metavar="RUN_ID")
            what = action.add_mutually_exclusive_group()
            what.add_argument(
                "--entries",
                action="store_true",
                help="list every entry the run reported (planned, purged, retained, skipped, "
                "failed): outcome, reason, rule, proof, marker or version, VersionId, key",
            )
            what.add_argument(
                "--plan",
                action="store_true",
                help="list the plan the run stored (what --apply-plan RUN_ID re-checks and "
                "purges), decoded to the same columns",
            )
        where = action.add_mutually_exclusive_group()
        where.add_argument(
            "--from",
            dest="location",
            metavar="DIR|S3URI",
            help="the report destination: a folder or an s3:// path (default: ./syncpurge-reports)",
        )
        where.add_argument(
            "--stack", help="a deployed syncpurge stack: its ReportLocation (default: --from's)"
        )
        add_aws_flags(action)
        action.add_argument(
            "--json",
            action="store_true",
            help="print JSON (with --entries or --plan: one JSON object per line)",
        )
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
        if args.entries or args.plan:
            folder = RunFolder(where, run_store(args) if where.startswith("s3://") else None)
            lines = folder.entries() if args.entries else folder.plan()
            return print_lines(summary, where, lines, as_json=args.json)
        if args.json:
            sys.stdout.write(json.dumps(summary.to_document(), indent=2) + "\n")
        else:
            render_summary(output_console(), summary, where)
        return 0
    if args.json:
        sys.stdout.write(json.dumps([s.to_document() for s, _ in summaries], indent=2) + "\n")
        return 0
    console = output_console()
    print_line(console, f"syncpurge runs in {location}", "bold")
    if summaries:
        for line in run_rows([s for s, _ in summaries]):
            print_line(console, line)
    else:
        err_console.print(f"no runs found in {location}")
    unreadable: list[str] = []
    erasures = sorted(
        read_receipts(location, args, unreadable), key=lambda e: e[0].started_at, reverse=True
    )
    for problem in unreadable:
        err_console.print(f"skipped: {problem}")
    if erasures:
        print_line(console, f"erasures in {location}", "bold")
        for line in erasure_rows(erasures):
            print_line(console, line)
    return 0


ERASURE_COLUMNS = ("ERASURE", "STARTED", "KEYS", "PURGED", "RETAINED", "LEFT", "RECEIPT")


def erasure_rows(erasures: list[tuple[Receipt, str]]) -> list[str]:
    """The erasures as aligned lines under a header, each with where its receipt is."""
    rows = []
    for receipt, where in erasures:
        t = receipt.totals
        started = receipt.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
        figures = (f"{n:,}" for n in (t.keys, t.purged, t.retained, t.failed))
        rows.append((receipt.erasure_id, started, *figures, where))
    return aligned([ERASURE_COLUMNS, *rows], left=2, right=4)


def aligned(rows: list[tuple[str, ...]], *, left: int, right: int) -> list[str]:
    """Rows as lines under one another: the first `left` cells padded on the right, the
    next `right` (figures) on the left, any after them as they are."""
    padded = left + right
    widths = [max(len(row[i]) for row in rows) for i in range(padded)]
    return [
        (
            INDENT
            + "  ".join(
                [cell.ljust(width) for cell, width in zip(row[:left], widths[:left], strict=True)]
                + [
                    cell.rjust(width)
                    for cell, width in zip(row[left:padded], widths[left:], strict=True)
                ]
                + list(row[padded:])
            )
        ).rstrip()
        for row in rows
    ]


def read_receipts(
    location: str, args: argparse.Namespace, unreadable: list[str]
) -> Iterator[tuple[Receipt, str]]:
    """Every erasure's receipt.json under `location`, read back as it was sealed; one that
    no longer matches is not listed, and why goes to `unreadable`."""
    if location.startswith("s3://"):
        bucket, prefix = split_s3_uri(location)
        store = run_store(args)
        found = [
            (f"s3://{bucket}/{key}", store.get_bytes(bucket, key))
            for key in store.list_keys(bucket, prefix)
            if key.endswith("/receipt.json")
        ]
    else:
        found = [(str(p), p.read_bytes()) for p in sorted(Path(location).rglob("receipt.json"))]
    for where, body in found:
        try:
            yield read_sealed(body, where).receipt, where
        except Mismatch as err:
            unreadable.append(str(err))


RUN_COLUMNS = ("RUN", "STATUS", "STARTED", "PLANNED", "PURGED", "SKIPPED", "FAILED")


def run_rows(summaries: list[Summary]) -> list[str]:
    """The runs as aligned lines under a header: a run id is a token to copy, so no column
    folds it (a rich table would, on a narrow terminal); an applied plan's run id follows
    on a line of its own. A row of today's run ids fits 100 columns."""
    rows = []
    for summary in summaries:
        t = summary.totals
        at = summary.started_at
        started = (at.astimezone(UTC) if at.tzinfo else at).strftime("%Y-%m-%dT%H:%MZ")
        figures = (f"{n:,}" for n in (t.planned, t.purged, t.skipped, t.failed))
        rows.append((summary.run_id, summary.status.value, started, *figures))
    header, *run_lines = aligned([RUN_COLUMNS, *rows], left=3, right=4)
    lines = [header]
    for summary, row_line in zip(summaries, run_lines, strict=True):
        lines.append(row_line)
        if summary.applied_plan:
            lines.append(f"{INDENT * 2}(applied {summary.applied_plan}'s plan)")
    return lines


def read_summaries(location: str, args: argparse.Namespace) -> Iterator[tuple[Summary, str]]:
    """Every run's summary.json under `location`, with the run's folder."""
    if location.startswith("s3://"):
        bucket, prefix = split_s3_uri(location)
        store = run_store(args)
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


def run_store(args: argparse.Namespace) -> S3Store:
    return S3Store(make_s3_client(**connection(args)), RequestCounter())


@dataclass(frozen=True)
class RunFolder:
    """One run's report folder: a local folder, or s3://bucket/prefix/ with its store."""

    where: str
    store: S3Store | None

    def _names(self, under: str) -> list[str]:
        """The folder's files below `under`, by name relative to the folder, sorted."""
        if self.store is None:
            root = Path(self.where)
            return sorted(str(p.relative_to(root)) for p in (root / under).glob("*") if p.is_file())
        bucket, prefix = split_s3_uri(self.where)
        return sorted(k.removeprefix(prefix) for k in self.store.list_keys(bucket, prefix + under))

    def _read(self, name: str) -> bytes | None:
        if self.store is None:
            path = Path(self.where) / name
            return path.read_bytes() if path.is_file() else None
        bucket, prefix = split_s3_uri(self.where)
        return self.store.get_bytes_or_none(bucket, prefix + name)

    def entries(self) -> Iterator[dict[str, Any]]:
        """The report's entries lines (docs/design.md §8), in file order."""
        for name in self._names("entries/"):
            if name.endswith(".jsonl") and "/entries-" in f"/{name}":
                for line in (self._read(name) or b"").splitlines():
                    if line.strip():
                        yield json.loads(line)

    def plan(self) -> Iterator[dict[str, Any]]:
        """The plan the run stored in its workspace (its Diff slices' plan chunks, in key
        order), each line with readable names."""
        for workspace in self.workspaces():
            stats = [n for n in workspace._names("diff-stats/") if n.endswith(".json")]
            if not stats:
                continue
            plan_keys = sorted(
                key
                for name in stats
                for keys in [json.loads(workspace._read(name) or b"{}").get("planKeys", [])]
                for key in keys
            )
            for key in plan_keys:
                chunk = workspace.read_key(key)
                if chunk is None:
                    raise CliError(f"--plan: {workspace.where} lacks its plan chunk {key}")
                for planned in decode_lines(chunk.splitlines()):
                    yield readable_line(planned)
            return
        raise CliError(
            f"--plan: no workspace of run {self.run_id} is kept beside {self.where} (a "
            "deployment keeps them for its workspaceRetentionDays; the report's entries "
            "list the plan too: --entries)"
        )

    @property
    def run_id(self) -> str:
        return self.where.rstrip("/").rpartition("/")[2]

    def workspaces(self) -> list[RunFolder]:
        """Where the run's workspace may be: beside its report folder (a CLI run's, under
        its --report), or at its bucket's root (a deployment's)."""
        parent = self.where.rstrip("/").rpartition("/")[0]
        found = [RunFolder(f"{parent}/{WORKSPACE_PREFIX}{self.run_id}/", self.store)]
        if self.store is not None:
            bucket, _ = split_s3_uri(self.where)
            found.append(RunFolder(f"s3://{bucket}/{WORKSPACE_PREFIX}{self.run_id}/", self.store))
        return found

    def read_key(self, key: str) -> bytes | None:
        """An object of this workspace's bucket (a plan chunk's key, as its run wrote it):
        a local workspace's bucket is the folder two levels up."""
        if self.store is None:
            path = Path(self.where).parent.parent / key
            return path.read_bytes() if path.is_file() else None
        bucket, _ = split_s3_uri(self.where)
        return self.store.get_bytes_or_none(bucket, key)


def print_lines(
    summary: Summary, where: str, lines: Iterator[dict[str, Any]], *, as_json: bool
) -> int:
    """Entries as rows under a header (or JSON lines), streamed: a run may have millions."""
    if as_json:
        for line in lines:
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        return 0
    console = output_console()
    print_line(console, f"syncpurge run {summary.run_id}: {summary.status.value}", "bold")
    print_line(console, f"{INDENT}report  {where}")
    if not print_entries(console, lines, outcomes=True):
        print_line(console, f"{INDENT}(no entries)")
    return 0
