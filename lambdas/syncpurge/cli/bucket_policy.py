"""`syncpurge bucket-policy --stack NAME --side source|target`: the statements the other
account adds to its bucket's policy when the source or the target is in another account,
read from the deployed stack's SourceBucketPolicy / TargetBucketPolicy output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console

from syncpurge.cli.flags import add_aws_flags, connection
from syncpurge.cli.terminal import CliError
from syncpurge.data.aws import StackOutputs
from syncpurge.data.clients import make_client
from syncpurge.errors import PreflightRefused

OUTPUTS = {"source": "SourceBucketPolicy", "target": "TargetBucketPolicy"}


def add_bucket_policy_parser(commands: Any) -> None:
    command = commands.add_parser(
        "bucket-policy",
        help="print the bucket-policy statements a bucket in another account needs",
        description="Print the statements the source's (read-only) or the target's (list and "
        "delete versions) bucket policy must add when that bucket is in another account than "
        "the stack: each step's role, by ARN, with exactly the actions it calls. Merge them "
        "into the bucket's policy (put-bucket-policy replaces the whole policy).",
    )
    command.add_argument("--stack", required=True, help="the deployed syncpurge stack's name")
    command.add_argument(
        "--side",
        required=True,
        choices=sorted(OUTPUTS),
        help="the bucket in another account: the source (read) or the target (purged)",
    )
    add_aws_flags(command)
    command.set_defaults(handler=run_bucket_policy)


def run_bucket_policy(args: argparse.Namespace, err_console: Console) -> int:
    client = make_client("cloudformation", **connection(args))
    output = OUTPUTS[args.side]
    try:
        value = StackOutputs(client).get(args.stack, output)
    except PreflightRefused as err:
        raise CliError(str(err)) from None
    try:
        document = json.loads(value)
    except ValueError:
        raise CliError(
            f"--stack: output {output!r} of stack {args.stack!r} is not a policy document; "
            "was the stack deployed by this version of syncpurge?"
        ) from None
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    err_console.print(
        f"Add these statements to the {args.side} bucket's policy, in the account that owns it."
    )
    return 0
