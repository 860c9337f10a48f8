"""CLI flags botocore or the file system would turn into tracebacks: refused first, each
refusal naming its flag (exit 2, nothing deleted)."""

from __future__ import annotations

import argparse
import ipaddress
import re
from pathlib import Path
from urllib.parse import urlparse

from syncpurge.cli.terminal import CliError

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


def s3_path(flag: str, value: str) -> tuple[str, str]:
    """`s3://bucket/prefix` as (bucket, prefix) ("" for none), or a one-line refusal that
    names the flag: another scheme, no bucket, or a name S3 can't have."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme != "s3":
        raise CliError(
            f"{flag}: {value!r} is not an s3:// path (s3://BUCKET or s3://BUCKET/PREFIX/)"
        )
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise CliError(f"{flag}: {value!r} names no bucket (s3://BUCKET or s3://BUCKET/PREFIX/)")
    problem = bucket_name_problem(bucket)
    if problem:
        raise CliError(f"{flag}: {bucket!r} in {value!r} {problem}")
    return bucket, prefix


def is_path(value: str) -> bool:
    """Whether a flag's value is meant as a URL or an s3:// path rather than a plain name."""
    return "://" in value or value.startswith("s3:")


def resolve_s3_paths(args: argparse.Namespace) -> None:
    """Take `s3://bucket` and `s3://bucket/prefix/` wherever a bucket or a prefix is asked
    for, as the AWS CLI does: --source-bucket / --target-bucket become the bucket's name and
    their path's prefix a run prefix (the same on both sides, or refused); --prefix keeps
    its key prefix and notes the bucket it named (`check_prefix_buckets`: the source's or
    the target's). Rewrites `args` in place; nothing is called."""
    path_prefix = _bucket_paths(args)
    if getattr(args, "prefixes", None) is not None:
        args.prefixes = [_prefix_path(args, value) for value in args.prefixes]
    if path_prefix:
        flag, prefix = path_prefix
        outside = [p for p in args.prefixes or [] if not p.startswith(prefix)]
        if outside:
            raise CliError(
                f"--prefix: {outside[0]!r} is outside {flag}'s prefix {prefix!r}; give "
                "prefixes under it, or the bucket without one"
            )
        args.prefixes = args.prefixes or [prefix]
    check_prefix_buckets(
        args, getattr(args, "source_bucket", None), getattr(args, "target_bucket", None)
    )


def _bucket_paths(args: argparse.Namespace) -> tuple[str, str] | None:
    """--source-bucket / --target-bucket given as s3:// paths, as bucket names; the flag
    and the prefix their paths give (one prefix: two different ones are refused)."""
    given: dict[str, str] = {}
    for side in ("source", "target"):
        value = getattr(args, f"{side}_bucket", None)
        if value is not None and is_path(value):
            bucket, prefix = s3_path(f"--{side}-bucket", value)
            setattr(args, f"{side}_bucket", bucket)
            if prefix:
                given[f"--{side}-bucket"] = prefix
    if len(set(given.values())) > 1:
        raise CliError(
            f"--source-bucket's prefix {given['--source-bucket']!r} and --target-bucket's "
            f"{given['--target-bucket']!r} differ: a run compares the same keys on both "
            "sides, so give one prefix (on either flag, or --prefix)"
        )
    return next(iter(given.items()), None)


def _prefix_path(args: argparse.Namespace, value: str) -> str:
    """A --prefix value as a key prefix; an s3:// path's bucket is noted in
    `args.prefix_buckets` (bucket -> the value that named it)."""
    if not hasattr(args, "prefix_buckets"):
        args.prefix_buckets = {}
    if not is_path(value):
        return value
    bucket, prefix = s3_path("--prefix", value)
    if not prefix:
        raise CliError(
            f"--prefix: {value!r} names a bucket but no prefix; omit --prefix for the whole bucket"
        )
    args.prefix_buckets.setdefault(bucket, value)
    return prefix


def check_prefix_buckets(args: argparse.Namespace, source: str | None, target: str | None) -> None:
    """Refuse a --prefix s3:// path naming a bucket that is neither the run's source nor its
    target (once they are known: from the flags, or from --task-arn's task)."""
    if source is None or target is None:
        return
    for bucket, value in getattr(args, "prefix_buckets", {}).items():
        if bucket not in (source, target):
            raise CliError(
                f"--prefix: {value!r} is in bucket {bucket!r}, which is neither the source "
                f"({source}) nor the target ({target}); nothing was deleted"
            )


def check_connection_flags(args: argparse.Namespace) -> None:
    """Refuse flags that name no bucket, Region, endpoint or report folder S3 could use."""
    resolve_s3_paths(args)
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
        # reconcile's --task-arn, erase's repeatable one
        if getattr(args, "task_arn", None) or getattr(args, "task_arns", None):
            by_flag = (
                "--source and --target"
                if hasattr(args, "task_arns")
                else "--source-bucket and --target-bucket"
            )
            raise CliError(
                "--task-arn can't be used with --endpoint-url: a DataSync task and its "
                "account are read from AWS DataSync and STS, and its locations name AWS "
                f"buckets; against another endpoint give {by_flag}"
            )
    report = getattr(args, "report", None)
    if report is not None:
        _check_report(report)
    location = getattr(args, "location", None)  # reports --from
    if location is not None and is_path(location):
        s3_path("--from", location)


def _check_endpoint(endpoint: str) -> None:
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or " " in endpoint:
        raise CliError(f"--endpoint-url: {endpoint!r} is not an http(s) URL")
    try:
        parsed.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError:
        raise CliError(f"--endpoint-url: {endpoint!r} has a port outside 0-65535") from None


def _check_report(report: str) -> None:
    if is_path(report):
        s3_path("--report", report)
        return
    folder = Path(report)
    try:
        is_file = folder.exists() and not folder.is_dir()
    except OSError as err:  # e.g. a name longer than the file system takes
        raise CliError(f"--report: {report!r} can't be used: {err.strerror}") from None
    if is_file:
        raise CliError(f"--report: {report!r} is a file; give a folder or s3://bucket/prefix")
