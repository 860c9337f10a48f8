"""`syncpurge erase`: erase named keys from every copy and write the receipt; `erase --check
RECEIPT`: list the receipt's keys again on every bucket and report any that came back
(docs/design.md §15; docs/erasure.md)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from syncpurge import __version__
from syncpurge.cli.flags import add_aws_flags, connection, s3_path
from syncpurge.cli.lock import TargetLock
from syncpurge.cli.receipts import (
    ReceiptPlace,
    check_signature,
    open_store,
    read_receipt_file,
    receipt_place,
)
from syncpurge.cli.reconcile import task_facts
from syncpurge.cli.terminal import EXIT_FAILED, EXIT_GUARD, EXIT_OK, CliError, print_line
from syncpurge.core.run_ids import new_run_id
from syncpurge.data.aws import caller_arn
from syncpurge.data.clients import make_client
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.signing import kms_signer
from syncpurge.erasure.checks import refuse_overlapping
from syncpurge.erasure.erase import erase
from syncpurge.erasure.keys import Copy, keys_file_lines, named_keys
from syncpurge.erasure.publish import ReceiptUnsigned, Signer, publish, signature_by
from syncpurge.erasure.receipt import Mismatch, SealedReceipt, read_sealed
from syncpurge.erasure.recheck import check_receipt
from syncpurge.erasure.run import (
    ErasureGuardTripped,
    ErasureIncomplete,
    ErasureRequest,
    ErasureRun,
)
from syncpurge.errors import InvalidInput
from syncpurge.models import Outcome


def add_erase_parser(commands: Any) -> None:
    erase_cmd = commands.add_parser(
        "erase",
        help="erase named keys from every copy (the source must hold none of them) and "
        "write a receipt that proves it; --check RECEIPT re-checks one",
        description="Purge every entry of the named keys from each target, with its proof, "
        "and write receipt.json (digest, optional KMS signature) and receipt.html.",
    )
    erase_cmd.add_argument(
        "--source",
        metavar="S3URI",
        help="the source bucket and its root: s3://BUCKET/ or s3://BUCKET/ROOT/ (a named key "
        "K is ROOT+K there); it must hold no entry of a named key, and is never written "
        "(default: none; needed unless --task-arn or --check)",
    )
    erase_cmd.add_argument(
        "--task-arn",
        action="append",
        dest="task_arns",
        metavar="ARN",
        help="a DataSync task whose locations map the keys (repeatable: one per copy): its "
        "source location is the source (every task's the same, and --source's if given), "
        "its target location a copy (default: none; give --source and --target)",
    )
    erase_cmd.add_argument(
        "--target",
        action="append",
        dest="targets",
        metavar="S3URI",
        help="a copy and its root, as --source (repeatable: one per copy, each its own root) "
        "(default: none; one at least unless --task-arn or --check)",
    )
    keys = erase_cmd.add_mutually_exclusive_group()
    keys.add_argument(
        "--key",
        action="append",
        dest="keys",
        metavar="KEY",
        help="a key to erase (repeatable) (default: none; give the keys by --key, "
        "--keys-file or --prefix)",
    )
    keys.add_argument(
        "--keys-file",
        metavar="FILE",
        help="a UTF-8 file of keys to erase, one per line, exactly as written (LF line ends) "
        "(default: none)",
    )
    keys.add_argument(
        "--prefix",
        dest="erase_prefix",
        metavar="PREFIX",
        help="erase every key the targets hold under PREFIX (default: none)",
    )
    keys.add_argument(
        "--check",
        metavar="RECEIPT",
        help="list a receipt's keys again on each of its buckets and report any entry that "
        "came back (exit 1); a local receipt.json or s3://…/receipt.json (default: erase, "
        "not check)",
    )
    erase_cmd.add_argument(
        "--report",
        metavar="DIR|S3URI",
        default="syncpurge-reports",
        help="where the erasure's folder goes: <report>/<erasure-id>/receipt.json, "
        "receipt.html, its journal and entries (default: ./syncpurge-reports)",
    )
    erase_cmd.add_argument(
        "--max-purge",
        type=int,
        default=100_000,
        metavar="N",
        help="the guard: an erasure of more than N entries deletes nothing (default 100000)",
    )
    erase_cmd.add_argument("--force", action="store_true", help="override the guard")
    erase_cmd.add_argument(
        "--allow-unrelated-source",
        action="store_true",
        help="erase even though the source holds none of the keys a copy holds beside the "
        "named ones (a sign of a wrong --source root)",
    )
    erase_cmd.add_argument(
        "--break-lock",
        action="store_true",
        help="remove a target's run lock (s3://TARGET/.syncpurge/cli-run.lock) a killed run left",
    )
    erase_cmd.add_argument(
        "--bypass-governance",
        action="store_true",
        help="delete GOVERNANCE-locked versions too (needs s3:BypassGovernanceRetention)",
    )
    erase_cmd.add_argument(
        "--sign-key",
        metavar="KMS_KEY",
        help="sign the receipt's digest with this asymmetric KMS key (SIGN_VERIFY); with "
        "--check, the key the receipt must be signed by (default: a digest only; with "
        "--check, the key a signed receipt names)",
    )
    add_aws_flags(erase_cmd)
    erase_cmd.add_argument(
        "--json", action="store_true", help="print exactly receipt.json (or the check) on stdout"
    )
    erase_cmd.set_defaults(handler=run_erase)


def erasure_request(args: argparse.Namespace) -> ErasureRequest:
    """The flags as an erasure, or a one-line refusal naming the flag."""
    source, targets = mappings(args)
    keys: tuple[str, ...] = ()
    if args.keys:
        keys = named_keys(args.keys, "--key")
    elif args.keys_file:
        text = _keys_file(args.keys_file)
        keys = named_keys(keys_file_lines(text, args.keys_file), f"{args.keys_file} key {{line}}")
        if not keys:
            raise CliError(f"--keys-file: {args.keys_file} names no key")
    elif args.erase_prefix is None:
        raise CliError("erase needs the keys: --key, --keys-file or --prefix")
    elif not args.erase_prefix:
        raise CliError("--prefix: an empty prefix would name every key; name a prefix")
    if args.max_purge < 0:
        raise CliError(f"--max-purge: {args.max_purge} is negative")
    request = ErasureRequest(
        source=source,
        targets=targets,
        keys=keys,
        prefix=args.erase_prefix,
        keys_file=args.keys_file,
        max_purge=args.max_purge,
        force=args.force,
        bypass_governance=args.bypass_governance,
        allow_unrelated_source=args.allow_unrelated_source,
    )
    refuse_overlapping(request)
    return request


def mappings(args: argparse.Namespace) -> tuple[Copy, tuple[Copy, ...]]:
    """The source and the copies, from --source/--target paths and --task-arn tasks."""
    given = Copy(*_mapping("--source", args.source)) if args.source is not None else None
    targets = [Copy(*_mapping("--target", t)) for t in args.targets or ()]
    sources = [given] if given is not None else []
    for arn in args.task_arns or ():
        facts = task_facts(args, arn)
        sources.append(Copy(facts.source.bucket, facts.source.subdirectory))
        targets.append(Copy(facts.target.bucket, facts.target.subdirectory))
    if not sources or not targets:
        raise CliError(
            "erase needs a source and at least one copy: --source and --target, or "
            "--task-arn (or --check RECEIPT)"
        )
    if len(set(sources)) > 1:
        named = ", ".join(sorted({c.uri for c in sources}))
        raise CliError(f"--task-arn: the tasks and --source name different sources ({named})")
    return sources[0], tuple(targets)


def _mapping(flag: str, value: str) -> tuple[str, str]:
    bucket, root = s3_path(flag, value)
    if root and not root.endswith("/"):
        raise CliError(f"{flag}: the root {root!r} of {value!r} must end in '/' (a folder)")
    return bucket, root


def _keys_file(name: str) -> str:
    try:
        # Bytes, decoded: read_text's universal newlines would turn CR LF into LF unseen.
        return Path(name).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"--keys-file: {name} is not UTF-8 text") from None
    except OSError as err:
        raise CliError(f"--keys-file: {name} can't be read ({err.strerror})") from None


def caller_of(args: argparse.Namespace) -> str:
    """Who the calls are made as; an S3-compatible endpoint may have no STS to say."""
    try:
        return caller_arn(make_client("sts", **connection(args)))
    except (BotoCoreError, ClientError) as err:
        return f"unknown (STS GetCallerIdentity failed: {err})"


def run_erase(args: argparse.Namespace, err_console: Console) -> int:
    if args.check is not None:
        return run_check(args, err_console)
    request = erasure_request(args)
    erasure_id = new_run_id(datetime.now(UTC))
    counter = RequestCounter()
    source = open_store(args, counter, [request.source.bucket])
    targets = open_store(args, counter, [t.bucket for t in request.targets])
    place = receipt_place(args, erasure_id)
    # One lock a bucket: two copies may be two roots of one bucket.
    buckets = dict.fromkeys(t.bucket for t in request.targets)
    locks = [TargetLock(targets, bucket, request.source.bucket) for bucket in buckets]
    run = ErasureRun(
        source=source,
        targets=targets,
        folder=place.folder,
        report_bucket=place.bucket,
        # A report root at a bucket's root claims only this erasure's folder there.
        report_prefix=place.root_prefix or place.prefix,
        erasure_id=erasure_id,
        clock=lambda: datetime.now(UTC),
        say=lambda line: print_line(err_console, line),
    )
    signer = receipt_signer(args)
    try:
        for lock in locks:
            lock.acquire(erasure_id, break_existing=args.break_lock)
        result = erase(request, run)
    except ErasureGuardTripped as err:
        print_line(err_console, f"guard tripped: {err}")
        return EXIT_GUARD
    except ErasureIncomplete as err:
        print_line(err_console, f"error: {err}")
        return EXIT_FAILED
    finally:
        for lock in locks:
            lock.release()
    try:
        sealed = publish(
            request,
            result,
            folder=place.folder(""),
            erasure_id=erasure_id,
            finished_at=datetime.now(UTC),
            tool=f"syncpurge {__version__}",
            caller=caller_of(args),
            lock_of=targets.version_lock,
            signer=signer,
        )
    except ReceiptUnsigned as err:
        print_line(err_console, f"error: {err}")
        return EXIT_FAILED
    except (OSError, BotoCoreError, ClientError) as err:
        purged = sum(
            1 for t in result.targets for r, _ in t.outcomes if r.outcome is Outcome.PURGED
        )
        print_line(
            err_console,
            f"error: {purged:,} entries were purged, and the receipt could not be written to "
            f"{place.shown('')} ({type(err).__name__}: {err}); the journal and entries there "
            "say what was deleted",
        )
        return EXIT_FAILED
    print_erasure(args, err_console, sealed, place, counter)
    return EXIT_FAILED if sealed.receipt.totals.failed else EXIT_OK


def receipt_signer(args: argparse.Namespace) -> Signer | None:
    """The --sign-key signer, tried on a digest of zeros first: a key that can't sign is
    refused before anything is deleted."""
    if not args.sign_key:
        return None
    signer = signature_by(kms_signer(make_client("kms", **connection(args)), args.sign_key))
    try:
        signer(bytes(32))
    except (InvalidInput, BotoCoreError, ClientError) as err:
        raise CliError(
            f"--sign-key: {args.sign_key} can't sign ({err}); nothing was deleted"
        ) from None
    return signer


def print_erasure(
    args: argparse.Namespace,
    err_console: Console,
    sealed: SealedReceipt,
    place: ReceiptPlace,
    counter: RequestCounter,
) -> None:
    totals, digest = sealed.receipt.totals, sealed.digest.value
    if args.json:
        sys.stdout.write(place.read_back("receipt.json"))
    else:
        print_line(
            err_console,
            f"erased {totals.keys:,} keys: {totals.purged:,} entries purged, "
            f"{totals.retained:,} retained by Object Lock, {totals.failed:,} left; "
            f"{totals.not_found:,} keys held by no bucket; {_requests(counter)}",
        )
        print_line(err_console, f"receipt: {place.shown('receipt.json')} (digest {digest[:16]}…)")
        print_line(err_console, f"         {place.shown('receipt.html')}")
    if totals.not_found:
        print_line(
            err_console,
            f"note: {totals.not_found:,} named keys had no entry in any bucket: check their "
            "spelling (keys are compared byte for byte: NFC and NFD forms are different keys)",
        )


def _requests(counter: RequestCounter) -> str:
    counts = counter.snapshot()
    return (
        f"requests: {counts.list:,} LIST, {counts.verify:,} verify LIST, "
        f"{counts.delete:,} DeleteObjects, {counts.head:,} HEAD"
    )


def run_check(args: argparse.Namespace, err_console: Console) -> int:
    name, body = read_receipt_file(args, args.check)
    try:
        sealed = read_sealed(body, name)
        # A signed receipt's signature is checked (by --sign-key when given) before its
        # keys are believed: an edit that hides a key coming back fails here.
        signed = check_signature(args, sealed, args.sign_key, unsigned_ok=True)
    except Mismatch as err:
        raise CliError(f"--check: {err}; nothing was checked") from None
    print_line(err_console, signed)
    counter = RequestCounter()
    found = check_receipt(
        sealed, lambda buckets: open_store(args, counter, buckets), datetime.now(UTC)
    )
    if args.json:
        sys.stdout.write(found.model_dump_json(by_alias=True) + "\n")
    for line in found.lines():
        print_line(err_console, line)
    if found.came_back:
        return EXIT_FAILED
    return EXIT_OK
