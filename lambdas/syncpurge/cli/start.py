"""`syncpurge start`: start the deployed state machine, follow it, print its report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console

from syncpurge.cli.flags import check_prefix_buckets, connection
from syncpurge.cli.terminal import (
    EXIT_FAILED,
    EXIT_GUARD,
    EXIT_INVALID,
    EXIT_OK,
    FLAG_OF_FIELD,
    CliError,
    exit_code_for,
    output_console,
    render_summary,
    request_doc,
    say,
)
from syncpurge.core.run_ids import new_run_id
from syncpurge.data.aws import ExecutionFollower, ExecutionsGateway
from syncpurge.data.clients import make_client
from syncpurge.engine import RunResult
from syncpurge.erasure.keys import keys_file_lines
from syncpurge.models import parse_request
from syncpurge.summary import Summary

FOLLOW_CEILING_SECONDS = 30.0

# Errors a state machine execution ends with that mean "refused, nothing deleted".
REFUSALS = {"InvalidInput", "PreflightRefused", "AlreadyRunning", "UnrelatedSource"}


def run_start(args: argparse.Namespace, err_console: Console) -> int:
    doc: dict[str, Any] = {}
    if args.input is not None:
        try:
            doc = json.loads(args.input)
        except ValueError as err:
            raise CliError(f"--input: not JSON ({err})") from None
        if not isinstance(doc, dict):
            raise CliError("--input: the request must be a JSON object")
    doc.update(request_doc(args))
    if args.skip_sync:
        doc["skipSync"] = True
    erase = erase_doc(args)
    if erase is not None:
        doc["erase"] = erase
    parse_request(doc, FLAG_OF_FIELD | {"skipSync": "--skip-sync"})
    client = make_client("stepfunctions", **connection(args))
    if getattr(args, "prefix_buckets", None):
        check_prefix_buckets(args, *deployed_buckets(client, args.state_machine_arn))
    name = new_run_id(datetime.now(UTC))
    try:
        execution_arn = client.start_execution(
            stateMachineArn=args.state_machine_arn, name=name, input=json.dumps(doc)
        )["executionArn"]
    except ClientError as err:
        raise CliError(f"could not start {args.state_machine_arn}: {err}") from err
    err_console.print(f"started {execution_arn}")
    if args.no_follow:
        sys.stdout.write(execution_arn + "\n")
        return EXIT_OK
    follower = ExecutionFollower(client, execution_arn)
    described = follow_execution(follower, err_console)
    status = described["status"]
    output = json.loads(described.get("output") or "null")
    if status == "SUCCEEDED" and isinstance(output, dict) and "erasure" in output:
        return print_erasure(output["erasure"], args.json, err_console)
    if status == "SUCCEEDED" and isinstance(output, dict) and "summary" in output:
        summary = Summary.model_validate(output["summary"])
        if args.json:
            sys.stdout.write(json.dumps(output["summary"], indent=2) + "\n")
        else:
            render_summary(output_console(), summary, output.get("report", ""))
        return exit_code_for(RunResult(summary))
    error, cause = described.get("error", status), described.get("cause", "")
    say(err_console, f"execution {status}", f"{error}: {cause}")
    if error == "GuardTripped":
        return EXIT_GUARD
    return EXIT_INVALID if error in REFUSALS else EXIT_FAILED


# Step Functions takes an execution input of at most 256 KiB (its service quotas).
MAX_INPUT_BYTES = 256 * 1024


def add_start_erase_flags(start: argparse.ArgumentParser) -> None:
    erase = start.add_mutually_exclusive_group()
    erase.add_argument(
        "--erase",
        action="append",
        dest="erase_keys",
        metavar="KEY",
        help="erase this key (repeatable) instead of reconciling (docs/erasure.md): the "
        "request's erase.keys (default: no erasure)",
    )
    erase.add_argument(
        "--erase-keys-file",
        metavar="FILE|S3URI",
        help="erase the keys of this file, one per line: a local file goes in the request "
        "(up to 256 KiB), an s3://<report bucket>/erasure-requests/… one is read by Erase "
        "(default: no erasure)",
    )
    erase.add_argument(
        "--erase-prefix",
        metavar="PREFIX",
        help="erase every key under PREFIX (default: no erasure)",
    )


def erase_doc(args: argparse.Namespace) -> dict[str, Any] | None:
    """The request's `erase` from the --erase flags (None: no erasure)."""
    if args.erase_keys:
        return {"keys": list(args.erase_keys)}
    if args.erase_prefix is not None:
        return {"prefix": args.erase_prefix}
    if args.erase_keys_file is None:
        return None
    if args.erase_keys_file.startswith("s3://"):
        return {"keysFile": args.erase_keys_file}
    try:
        text = Path(args.erase_keys_file).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"--erase-keys-file: {args.erase_keys_file} can't be read ({err})") from None
    keys = keys_file_lines(text, args.erase_keys_file)
    if not keys:
        raise CliError(f"--erase-keys-file: {args.erase_keys_file} names no key")
    if len(json.dumps(keys).encode()) > MAX_INPUT_BYTES - 4096:
        raise CliError(
            f"--erase-keys-file: {len(keys):,} keys pass an execution input's 256 KiB: put the "
            "file under s3://<report bucket>/erasure-requests/ and give its s3:// path"
        )
    return {"keys": keys}


def print_erasure(erasure: dict[str, Any], as_json: bool, err_console: Console) -> int:
    """An erasure execution's outcome: its receipt and totals."""
    if as_json:
        sys.stdout.write(json.dumps(erasure, indent=2) + "\n")
    else:
        totals = erasure.get("totals") or {}
        err_console.print(
            f"erased {totals.get('keys', 0):,} keys: {totals.get('purged', 0):,} entries "
            f"purged, {totals.get('retained', 0):,} retained by Object Lock, "
            f"{totals.get('failed', 0):,} left"
        )
        signed = "signed" if erasure.get("signed") else "not signed"
        err_console.print(f"receipt: {erasure.get('receipt')} ({signed})")
    return EXIT_OK


def deployed_buckets(client: Any, state_machine_arn: str) -> tuple[str, str]:
    """The source and the target the deployed state machine runs on, read off its
    definition (the deployment's config that its states pass to Prepare)."""
    found = _config_buckets(ExecutionsGateway(client).definition(state_machine_arn))
    if found is None:
        raise CliError(
            f"--prefix: the buckets of {state_machine_arn} can't be read off its definition; "
            "give the key prefix alone (it applies to the deployed source and target)"
        )
    return found


def _config_buckets(node: Any) -> tuple[str, str] | None:
    if isinstance(node, dict):
        source, target = node.get("sourceBucket"), node.get("targetBucket")
        if isinstance(source, str) and isinstance(target, str):
            return source, target
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            found = _config_buckets(item)
            if found is not None:
                return found
    return None


def follow_execution(follower: ExecutionFollower, console: Console) -> dict[str, Any]:
    """Show the current state and Map item counts until the execution ends."""
    delay = 1.0
    with console.status("starting") as status:
        state = ""
        while True:
            for event in follower.new_events():
                if event.state:
                    state = event.state
            items = ", ".join(
                f"{done}/{total} items" for _, done, total in follower.map_item_counts()
            )
            status.update(f"state: {state}" + (f" ({items})" if items else ""))
            described = follower.describe()
            if described["status"] != "RUNNING":
                console.print(f"execution {described['status']} (last state: {state})")
                return described
            # A run may take hours: poll often at first, then every 30 s (the client's
            # standard retries ride out throttling of these calls).
            time.sleep(delay)
            delay = min(FOLLOW_CEILING_SECONDS, delay * 1.5)
