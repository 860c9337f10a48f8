"""`syncpurge erase` when something fails: before the purge, nothing is deleted and the
exit is 2; after it began, the exit is 1 with one line saying what went and where its
journal is, never a traceback (docs/erasure.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from syncpurge.cli import EXIT_FAILED, EXIT_INVALID, main
from syncpurge.data.files import FolderStore
from syncpurge.data.s3store import S3Store
from syncpurge.data.signing import KmsSigning
from syncpurge.errors import ListingFailed
from tests.erasures import buckets, erase_flags, keys_in, the_receipt
from tests.helpers import run_folders

pytestmark = pytest.mark.integration

NAMED = ("subject/1.txt", "subject/2.txt")


def copies(s3: Any) -> None:
    buckets(s3, "src", "copy")
    for key in NAMED:
        s3.put_object(Bucket="copy", Key=key, Body=b"x")


def test_a_sign_key_that_cannot_sign_is_refused_before_anything_is_deleted(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copies(s3)
    symmetric = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]
    flags = erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=NAMED)

    assert main([*flags, "--sign-key", symmetric]) == EXIT_INVALID

    assert "--sign-key" in capsys.readouterr().err
    assert keys_in(s3, "copy") == list(NAMED)


def test_a_signature_that_fails_after_the_purge_leaves_the_receipt_unsigned(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copies(s3)
    key = boto3.client("kms", region_name="us-east-1").create_key(
        KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256"
    )["KeyMetadata"]["Arn"]
    signs = KmsSigning.sign
    calls = []

    def sign_once(self: KmsSigning, key_id: str, digest: bytes) -> Any:
        calls.append(key_id)
        if len(calls) > 1:  # the check before the purge passes; KMS fails afterwards
            raise ConnectionError("KMS is unreachable")
        return signs(self, key_id, digest)

    monkeypatch.setattr(KmsSigning, "sign", sign_once)
    flags = erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=NAMED)

    assert main([*flags, "--sign-key", key]) == EXIT_FAILED

    assert "was written unsigned" in capsys.readouterr().err
    path, receipt = the_receipt(tmp_path)
    assert receipt["totals"]["purged"] == 2
    assert '"signature":null' in path.read_text()
    assert keys_in(s3, "copy") == []


def test_a_listing_that_fails_after_the_purge_says_what_went_and_where_the_journal_is(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copies(s3)
    pages = S3Store.key_set_page

    def failing_after_deletes(self: S3Store, bucket: str, *args: Any) -> Any:
        if self.counter.snapshot().delete:
            raise ListingFailed("ListObjectVersions on s3://copy", "SlowDown", "try again")
        return pages(self, bucket, *args)

    monkeypatch.setattr(S3Store, "key_set_page", failing_after_deletes)

    code = main(erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=NAMED))

    err = capsys.readouterr().err
    assert code == EXIT_FAILED
    assert "the erasure stopped after purging 2 entries" in err
    assert "Traceback" not in err
    (folder,) = run_folders(tmp_path)
    assert list(folder.glob("targets/*/journal/batch-*.jsonl"))
    assert not (folder / "receipt.json").exists()


def test_a_receipt_that_cannot_be_written_says_the_purge_happened(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copies(s3)
    writes = FolderStore.put_bytes

    def disk_full_at_the_receipt(self: FolderStore, bucket: str, key: str, *rest: Any) -> None:
        if key.endswith("receipt.json"):
            raise OSError(28, "No space left on device")
        writes(self, bucket, key, *rest)

    monkeypatch.setattr(FolderStore, "put_bytes", disk_full_at_the_receipt)

    code = main(erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=NAMED))

    err = capsys.readouterr().err
    assert code == EXIT_FAILED
    assert "2 entries were purged, and the receipt could not be written" in err
