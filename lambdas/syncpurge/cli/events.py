"""`syncpurge events status|resume --stack NAME`: the event path of a deployed stack with
events=on (docs/design.md §13): whether the source sends its events to EventBridge, the brake's
state; and turning the brake's latch off after a trip has been reviewed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console

from syncpurge.cli.flags import add_aws_flags, connection
from syncpurge.cli.terminal import EXIT_OK, INDENT, CliError, print_line, print_prose
from syncpurge.data.aws import StackOutputs
from syncpurge.data.clients import make_client, make_s3_client
from syncpurge.data.s3store import S3Store
from syncpurge.errors import PreflightRefused
from syncpurge.events.path import BrakeState

# A bucket without notifications prints nothing: `jq -s add` merges whatever is printed
# with {} and the EventBridge element; put-bucket-notification-configuration replaces the
# whole configuration, so the bucket's other notifications must be in what is put back.
# One shell command, in lines that fit 100 columns for any bucket name (63 at most), broken
# with `\` continuations between words only.
TURN_ON = (
    "{{ aws s3api get-bucket-notification-configuration \\",
    "    --bucket {bucket}; echo '{{}}'; }} \\",
    "  | jq -s 'add + {{EventBridgeConfiguration: {{}}}}' > notification.json \\",
    "  && aws s3api put-bucket-notification-configuration \\",
    "    --bucket {bucket} \\",
    "    --notification-configuration file://notification.json",
)


def turn_on_lines(bucket: str) -> list[str]:
    """The command that turns the source's EventBridge notifications on, as shell lines."""
    return [INDENT + line.format(bucket=bucket) for line in TURN_ON]


def add_events_parser(commands: Any) -> None:
    command = commands.add_parser(
        "events",
        help="the event path of a deployed stack (events=on): status, resume",
        description="The event path purges within minutes of a permanent delete at the "
        "source, after a hold and under a brake (docs/design.md §13).",
    )
    actions = command.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser(
        "status", help="whether the source sends events to EventBridge, and the brake's state"
    )
    resume = actions.add_parser(
        "resume", help="turn the brake's latch off: the event path purges again"
    )
    for sub, run in ((status, run_status), (resume, run_resume)):
        sub.add_argument("--stack", required=True, help="the deployed syncpurge stack's name")
        sub.add_argument("--json", action="store_true", help="print the state as JSON")
        add_aws_flags(sub)
        sub.set_defaults(handler=run)


def _stack(args: argparse.Namespace) -> tuple[str, str, str]:
    """(source bucket, brake's bucket, brake's key) from the stack's outputs."""
    outputs = StackOutputs(make_client("cloudformation", **connection(args)))
    try:
        source = outputs.get(args.stack, "EventSourceBucket")
        brake = outputs.get(args.stack, "EventBrake")
    except PreflightRefused as err:
        raise CliError(f"{err} (was it deployed with -c events=on?)") from None
    bucket, _, key = brake.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise CliError(
            f"--stack: output 'EventBrake' of stack {args.stack!r} is not s3://bucket/key"
        )
    return source, bucket, key


def _brake(store: S3Store, bucket: str, key: str) -> BrakeState:
    body = store.get_bytes_or_none(bucket, key)
    return BrakeState.model_validate(json.loads(body) if body else {})


def run_status(args: argparse.Namespace, err_console: Console) -> int:
    source, bucket, key = _stack(args)
    store = S3Store(make_s3_client(**connection(args)))
    sends = store.sends_eventbridge_events(source)
    brake = _brake(store, bucket, key)
    state = {
        "sourceBucket": source,
        "eventBridgeNotifications": "on" if sends else "off",
        "brake": brake.model_dump(mode="json", by_alias=True),
    }
    if args.json:
        sys.stdout.write(json.dumps(state) + "\n")
    else:
        print_line(
            err_console,
            f"source s3://{source}: EventBridge notifications {state['eventBridgeNotifications']}",
        )
        latch = f"LATCHED since {brake.latched_at}: {brake.reason}" if brake.latched else "off"
        print_prose(
            err_console, f"brake: {latch}; {brake.purged} purged in hour {brake.hour or '-'}"
        )
    if not sends:
        print_prose(
            err_console,
            "The source sends no events to EventBridge, so the event path receives nothing. "
            "Turn them on (keeping the bucket's other notifications) with:",
        )
        for line in turn_on_lines(source):
            print_line(err_console, line)
    return EXIT_OK


def run_resume(args: argparse.Namespace, err_console: Console) -> int:
    _, bucket, key = _stack(args)
    store = S3Store(make_s3_client(**connection(args)))
    brake = _brake(store, bucket, key)
    if not brake.latched:
        err_console.print("The brake is not latched: nothing to resume.")
        return EXIT_OK
    was = brake.reason
    brake.latched, brake.latched_at, brake.reason = False, None, None
    body = json.dumps(brake.model_dump(mode="json", by_alias=True)).encode()
    store.put_bytes(bucket, key, body, "application/json")
    err_console.print(f"Resumed: the event path purges again (it had latched: {was}).")
    return EXIT_OK
