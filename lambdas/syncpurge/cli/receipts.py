"""Where an erasure's receipt goes and how it is read back; `syncpurge receipt verify FILE`:
the digest, the canonical form and the KMS signature, each named when it doesn't match."""

from __future__ import annotations

import argparse
import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from syncpurge.cli.flags import add_aws_flags, connection, is_path, s3_path
from syncpurge.cli.terminal import EXIT_FAILED, EXIT_OK, CliError, print_line
from syncpurge.data.clients import make_client, make_s3_client
from syncpurge.data.files import FolderStore, RunFiles
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.data.signing import KmsSigning
from syncpurge.erasure.receipt import (
    Mismatch,
    SealedReceipt,
    read_sealed,
)
from syncpurge.phases.report import StoreDestination


@dataclass(frozen=True, slots=True)
class ReceiptPlace:
    """An erasure's folder: `<report>/<erasure-id>/`, in S3 or on the local disk."""

    files: RunFiles
    store_bucket: str  # the S3 bucket, or the local folder store's folder
    bucket: str | None  # the S3 bucket; None: local
    root_prefix: str  # the report root's prefix in `bucket`
    prefix: str  # the erasure folder's

    def folder(self, sub: str) -> StoreDestination:
        return StoreDestination(self.files, self.store_bucket, self.prefix + sub)

    def shown(self, name: str) -> str:
        return self.files.shown(self.store_bucket, self.prefix + name)

    def read_back(self, name: str) -> str:
        return self.files.get_bytes(self.store_bucket, self.prefix + name).decode("utf-8")


def open_store(args: argparse.Namespace, counter: RequestCounter, buckets: list[str]) -> S3Store:
    """A store that calls each of `buckets` in its own Region (asked of it once)."""
    where = {"endpoint_url": args.endpoint_url, "profile": args.profile}
    store = S3Store(
        make_s3_client(region=args.region, **where),
        counter,
        regional=lambda region: make_s3_client(region=region, **where),
    )
    store.place({bucket: store.find_region(bucket) for bucket in buckets})
    return store


def receipt_place(args: argparse.Namespace, erasure_id: str) -> ReceiptPlace:
    if is_path(args.report):
        bucket, prefix = s3_path("--report", args.report)
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        store = open_store(args, RequestCounter(), [bucket])
        return ReceiptPlace(store, bucket, bucket, prefix, f"{prefix}{erasure_id}/")
    root = Path(args.report).resolve()
    if not root.name:
        raise CliError(f"--report: {args.report} is the file system's root: give a folder below it")
    return ReceiptPlace(FolderStore(root.parent), root.name, None, "", f"{erasure_id}/")


def read_receipt_file(args: argparse.Namespace, value: str) -> tuple[str, bytes]:
    """A receipt's name and bytes: a local file, or s3://bucket/key."""
    if is_path(value):
        bucket, key = s3_path("RECEIPT", value)
        store = S3Store(make_s3_client(**connection(args)))
        body = store.get_bytes_or_none(bucket, key)
        if body is None:
            raise CliError(f"{value}: no such object")
        return value, body
    try:
        return value, Path(value).read_bytes()
    except OSError as err:
        raise CliError(f"{value} can't be read ({err.strerror})") from None


def add_receipt_parser(commands: Any) -> None:
    receipt = commands.add_parser("receipt", help="verify an erasure receipt")
    actions = receipt.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify",
        help="check a receipt's digest and canonical form, and its KMS signature",
        description="Exit 0: the receipt is as sealed and signed by --key (or, with "
        "--unsigned-ok, unsigned and as sealed); exit 1: something doesn't match, named.",
    )
    verify.add_argument("file", metavar="FILE", help="receipt.json, local or s3://…")
    verify.add_argument(
        "--key",
        metavar="KMS_KEY",
        help="the KMS key the receipt must be signed by: take it from a channel you trust "
        "(the stack's ReceiptKeyArn), not from the receipt (default: none; then only "
        "--unsigned-ok passes)",
    )
    verify.add_argument(
        "--unsigned-ok",
        action="store_true",
        help="pass an unsigned receipt whose digest matches: it proves the file unchanged "
        "since it was sealed, not who sealed it (anyone can re-seal an edit)",
    )
    add_aws_flags(verify)
    verify.set_defaults(handler=run_verify)


def run_verify(args: argparse.Namespace, err_console: Console) -> int:
    name, body = read_receipt_file(args, args.file)
    try:
        sealed = read_sealed(body, name)
        signer = check_signature(args, sealed, args.key, unsigned_ok=args.unsigned_ok)
    except Mismatch as err:
        print_line(err_console, f"MISMATCH: {err}")
        return EXIT_FAILED
    print_line(err_console, f"{name}: digest {sealed.digest.value} matches its content")
    print_line(err_console, signer)
    return EXIT_OK


def check_signature(
    args: argparse.Namespace, sealed: SealedReceipt, key: str | None, *, unsigned_ok: bool
) -> str:
    """What the receipt's signature proves, in a line; Mismatch when it proves nothing
    asked for: no signature by `key`, or (without `key`) a signature that isn't the named
    key's, or no signature where `unsigned_ok` is not given."""
    if sealed.signature is None:
        if key:
            raise Mismatch(f"the receipt is not signed, and --key {key} was asked for")
        if not unsigned_ok:
            raise Mismatch(
                "the receipt is not signed: its digest proves it unchanged only to someone who "
                "trusts where it came from (give --unsigned-ok to accept that)"
            )
        return "not signed: the digest proves it unchanged since it was sealed, not who sealed it"
    signature = sealed.signature
    checked = key or signature.key_id
    try:
        raw = base64.b64decode(signature.value, validate=True)
    except binascii.Error:
        raise Mismatch("the signature is not base64: it was changed") from None
    kms = KmsSigning(make_client("kms", **connection(args)))
    digest = bytes.fromhex(sealed.digest.value)
    if not kms.verifies(checked, digest, raw, signature.algorithm):
        raise Mismatch(
            f"the signature is not KMS key {checked}'s over this digest (the receipt names "
            f"{signature.key_id})"
        )
    if key is None:
        if not unsigned_ok:
            raise Mismatch(
                f"the signature is valid for the key the receipt names ({checked}), but no "
                "--key says that key is to be trusted: give --key with the signer's key"
            )
        return f"signature valid for the key the receipt names, {checked} (not pinned: no --key)"
    return f"signature valid: KMS key {checked}"
