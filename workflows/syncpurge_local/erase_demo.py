"""`syncpurge demo --erase`: an erasure proven on every copy, and a restore from backup
caught, on moto (docs/erasure.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console

from syncpurge.cli import EXIT_FAILED, EXIT_OK, main
from syncpurge_local.demo import SOURCE, TARGET, demo_pair, step, sync, version_table, versions
from syncpurge_local.runtime import REGION, LocalRuntime

BACKUP = "demo-backup"
SUBJECT = "customers/4711/"
FILES = ("contract.pdf", "notes.txt", "passport.pdf")


def run_erase_demo(report_dir: Path, console: Console) -> int:
    started = time.monotonic()
    with LocalRuntime() as runtime:
        s3, task = demo_pair(runtime)
        s3.create_bucket(Bucket=BACKUP)
        s3.put_bucket_versioning(Bucket=BACKUP, VersioningConfiguration={"Status": "Enabled"})
        key = boto3.client("kms", region_name=REGION).create_key(
            KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256"
        )["KeyMetadata"]["Arn"]
        console.rule("[bold]syncpurge demo --erase[/bold]: an erasure proven on every copy")

        step(console, "1. subject 4711's three files are written, synced, and backed up")
        for name in [SUBJECT + f for f in FILES] + ["customers/4712/contract.pdf"]:
            s3.put_object(Bucket=SOURCE, Key=name, Body=f"{name}, signed".encode())
        sync(runtime, task)
        for entry in versions(s3, SOURCE):
            body = s3.get_object(Bucket=SOURCE, Key=entry["Key"])["Body"].read()
            s3.put_object(Bucket=BACKUP, Key=f"nightly/{entry['Key']}", Body=body)

        step(console, "2. the erasure request: every version is deleted at the source")
        for entry in versions(s3, SOURCE):
            if entry["Key"].startswith(SUBJECT):
                s3.delete_object(Bucket=SOURCE, Key=entry["Key"], VersionId=entry["VersionId"])
        sync(runtime, task)
        console.print("DataSync ran again; a permanent delete never reaches a copy:")
        console.print(version_table(f"copy s3://{TARGET}", _subject(s3, TARGET, "")))
        console.print(
            version_table(f"copy s3://{BACKUP}/nightly/", _subject(s3, BACKUP, "nightly/"))
        )

        step(
            console, "3. syncpurge erase: both copies, each with its own mapping; a signed receipt"
        )
        erasures = report_dir / "erasures"
        code = _run(
            console,
            "erase",
            "--source",
            f"s3://{SOURCE}/",
            "--target",
            f"s3://{TARGET}/",
            "--target",
            f"s3://{BACKUP}/nightly/",
            "--prefix",
            SUBJECT,
            "--report",
            str(erasures),
            "--sign-key",
            key,
        )
        (receipt,) = sorted(erasures.glob("*/receipt.json"))
        console.print(f"receipt: [cyan]{receipt}[/] and [cyan]{receipt.with_suffix('.html')}[/]")
        verified = _run(console, "receipt", "verify", str(receipt), "--key", key)

        step(console, "4. a restore from backup tape brings notes.txt back into the copy")
        s3.put_object(Bucket=TARGET, Key=f"{SUBJECT}notes.txt", Body=b"restored from tape")
        console.print(f"s3://{TARGET}/{SUBJECT}notes.txt is back")

        step(console, "5. syncpurge erase --check RECEIPT lists every bucket of the receipt again")
        checked = _run(console, "erase", "--check", str(receipt))
        console.rule()
        console.print(f"done in {time.monotonic() - started:.1f}s")
        caught = checked == EXIT_FAILED
        console.print("the resurrection was caught (exit 1)" if caught else "[red]not caught[/]")
        return EXIT_OK if (code, verified, caught) == (EXIT_OK, EXIT_OK, True) else EXIT_FAILED


def _subject(s3: Any, bucket: str, root: str) -> list[dict[str, Any]]:
    return [e for e in versions(s3, bucket) if e["Key"].startswith(root + SUBJECT)]


def _run(console: Console, *argv: str) -> int:
    console.print(f"[dim]$ syncpurge {' '.join(argv)}[/]")
    return main([*argv, "--region", REGION])
