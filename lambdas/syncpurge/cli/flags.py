"""CLI flags botocore or the file system would turn into tracebacks: refused first, each
refusal naming its flag (exit 2, nothing deleted)."""

from __future__ import annotations

import argparse
import ipaddress
import re
from pathlib import Path
from urllib.parse import urlparse

from syncpurge.cli.terminal import CliError
from syncpurge.errors import InvalidInput
from syncpurge.report import split_s3_uri

# S3 User Guide, "General purpose bucket naming rules": 3-63 characters of lowercase
# letters, digits, dots and hyphens, starting and ending with a letter or digit, no two
# adjacent dots, not shaped like an IP address, and none of the reserved prefixes/suffixes.
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$")
ACCOUNT = re.compile(r"^\d{12}$")


def add_aws_flags(parser: argparse.ArgumentParser) -> None:
    """Where and as whom a command that calls AWS does so."""
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every AWS request of this command to URL: LocalStack or moto (every "
        "service on one URL), or any S3-compatible service for the calls only S3 answers "
        "(reconcile with buckets, reports --from s3://...) (default: AWS's own endpoints)",
    )
    parser.add_argument(
        "--region",
        help="the Region to call (default: the profile's or the environment's)",
    )
    parser.add_argument("--profile", help="the AWS CLI profile to use (default: the environment's)")


def connection(args: argparse.Namespace) -> dict[str, str | None]:
    """The add_aws_flags values as make_client / make_s3_client take them."""
    return {"region": args.region, "endpoint_url": args.endpoint_url, "profile": args.profile}


def bucket_name_problem(name: str) -> str | None:
    """Why `name` can't be an S3 bucket name, or None."""
    if not BUCKET_NAME.match(name):
        return "is not an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending alphanumeric)"
    if ".." in name:
        return "has two adjacent dots, which bucket names can't"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "is shaped like an IP address, which bucket names can't be"
    if name.startswith(RESERVED_PREFIXES) or name.endswith(RESERVED_SUFFIXES):
        return "uses a prefix or suffix S3 reserves"
    return None


def check_connection_flags(args: argparse.Namespace) -> None:
    """Refuse flags that name no bucket, Region, endpoint or report folder S3 could use."""
    for flag in ("source_bucket", "target_bucket"):
        value = getattr(args, flag, None)
        problem = bucket_name_problem(value) if value is not None else None
        if problem:
            raise CliError(f"--{flag.replace('_', '-')}: {value!r} {problem}")
    source, target = getattr(args, "source_bucket", None), getattr(args, "target_bucket", None)
    if source is not None and source == target:
        raise CliError(f"--target-bucket: {target!r} is also --source-bucket: nothing to reconcile")
    for side in ("source", "target"):
        account = getattr(args, f"{side}_account", None)
        if account is not None and not ACCOUNT.match(account):
            raise CliError(f"--{side}-account: {account!r} is not a 12-digit AWS account ID")
    for flag in ("region", "source_region", "target_region"):
        region = getattr(args, flag, None)
        if region is not None and not REGION.match(region):
            name = flag.replace("_", "-")
            raise CliError(f"--{name}: {region!r} is not an AWS Region name (like us-east-1)")
    endpoint = getattr(args, "endpoint_url", None)
    if endpoint is not None:
        _check_endpoint(endpoint)
        if getattr(args, "task_arn", None):
            raise CliError(
                "--task-arn can't be used with --endpoint-url: a DataSync task and its "
                "account are read from AWS DataSync and STS, and its locations name AWS "
                "buckets; against another endpoint give --source-bucket and --target-bucket"
            )
    report = getattr(args, "report", None)
    if report is not None:
        _check_report(report)


def _check_endpoint(endpoint: str) -> None:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or " " in endpoint:
        raise CliError(f"--endpoint-url: {endpoint!r} is not an http(s) URL")
    try:
        parsed.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError:
        raise CliError(f"--endpoint-url: {endpoint!r} has a port outside 0-65535") from None


def _check_report(report: str) -> None:
    if report.startswith("s3://"):
        try:
            bucket, _ = split_s3_uri(report)
        except InvalidInput as err:
            raise CliError(f"--report: {err}") from None
        problem = bucket_name_problem(bucket)
        if problem:
            raise CliError(f"--report: {bucket!r} {problem}")
        return
    folder = Path(report)
    try:
        is_file = folder.exists() and not folder.is_dir()
    except OSError as err:  # e.g. a name longer than the file system takes
        raise CliError(f"--report: {report!r} can't be used: {err.strerror}") from None
    if is_file:
        raise CliError(f"--report: {report!r} is a file; give a folder or s3://bucket/prefix")
