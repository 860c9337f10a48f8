"""`syncpurge erase` on moto (docs/erasure.md): each test ends in the receipt it states."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncpurge.cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, main
from tests.erasures import buckets, erase_flags, erased_subject, keys_in, part, the_receipt
from tests.helpers import make_versioned_bucket, run_folders

pytestmark = pytest.mark.integration

SUBJECT = ("subject/1.txt", "subject/2.txt")


def test_two_copies_with_their_own_mappings_lose_every_entry_of_the_keys(
    s3: Any, tmp_path: Path
) -> None:
    buckets(s3, "src", "copy-a", "copy-b")
    s3.put_object(Bucket="src", Key="data/other.txt", Body=b"kept")
    for key in (*SUBJECT, "other.txt", "subject/1.txt.bak"):
        s3.put_object(Bucket="copy-a", Key=f"data/{key}", Body=b"x")
        s3.put_object(Bucket="copy-a", Key=f"data/{key}", Body=b"yy")
        s3.put_object(Bucket="copy-b", Key=f"backup/data/{key}", Body=b"x")
    s3.delete_object(Bucket="copy-a", Key="data/subject/1.txt")  # a delete marker too

    code = main(
        erase_flags(
            tmp_path,
            "s3://src/data/",
            "s3://copy-a/data/",
            "s3://copy-b/backup/data/",
            keys=SUBJECT,
        )
    )

    assert code == EXIT_OK
    assert keys_in(s3, "copy-a") == ["data/other.txt"] * 2 + ["data/subject/1.txt.bak"] * 2
    assert keys_in(s3, "copy-b") == ["backup/data/other.txt", "backup/data/subject/1.txt.bak"]
    path, receipt = the_receipt(tmp_path)
    assert receipt["totals"] == {"keys": 2, "purged": 7, "retained": 0, "failed": 0, "notFound": 0}
    in_a = part(receipt, "subject/1.txt", "copy-a")
    assert (in_a["bucketKey"], in_a["verdict"], in_a["heldBefore"]) == (
        "data/subject/1.txt",
        "gone",
        3,
    )
    assert sorted(e["kind"] for e in in_a["purged"]) == ["delete-marker", "version", "version"]
    assert {e["proof"] for e in in_a["purged"]} == {"vanished"}
    in_b = part(receipt, "subject/2.txt", "copy-b")
    assert (in_b["bucketKey"], in_b["verdict"], len(in_b["purged"])) == (
        "backup/data/subject/2.txt",
        "gone",
        1,
    )
    assert part(receipt, "subject/2.txt", "src")["verdict"] == "gone"
    assert in_b["listedAfter"]["requestId"]
    assert receipt["caller"].startswith("arn:aws:")
    assert receipt["inputs"]["targets"] == [
        {"bucket": "copy-a", "root": "data/"},
        {"bucket": "copy-b", "root": "backup/data/"},
    ]
    assert main(["receipt", "verify", str(path)]) == EXIT_FAILED  # unsigned: who sealed it?
    assert main(["receipt", "verify", str(path), "--unsigned-ok"]) == EXIT_OK
    journaled = list(path.parent.glob("targets/*/journal/batch-*.jsonl"))
    assert journaled, "each batch is journaled before it is sent"


def test_a_key_the_source_still_holds_is_refused_and_nothing_is_deleted(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    buckets(s3, "src", "copy")
    for key in SUBJECT:
        s3.put_object(Bucket="copy", Key=key, Body=b"x")
    s3.put_object(Bucket="src", Key="subject/2.txt", Body=b"x")
    s3.delete_object(Bucket="src", Key="subject/2.txt")  # only a marker and a noncurrent version
    before = keys_in(s3, "copy")

    code = main(erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=SUBJECT))

    assert code == EXIT_INVALID
    err = capsys.readouterr().err
    assert "still holds 1 of the named keys ('subject/2.txt')" in err
    assert "erase them at the source first" in err
    assert keys_in(s3, "copy") == before
    assert not [f for f in run_folders(tmp_path) if (f / "receipt.json").exists()]


def test_a_governance_retained_version_stays_and_the_receipt_dates_it(
    s3: Any, tmp_path: Path
) -> None:
    buckets(s3, "src")
    buckets(s3, "locked", object_lock=True)
    until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    s3.put_object(
        Bucket="locked",
        Key="subject/1.txt",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=until,
    )
    s3.put_object(Bucket="locked", Key="subject/2.txt", Body=b"x")

    code = main(erase_flags(tmp_path, "s3://src/", "s3://locked/", keys=SUBJECT))

    assert code == EXIT_OK  # retained is an outcome, not a failure
    assert keys_in(s3, "locked") == ["subject/1.txt"]
    _, receipt = the_receipt(tmp_path)
    held = part(receipt, "subject/1.txt", "locked")
    assert held["verdict"] == "retained"
    (left,) = held["left"]
    assert (left["outcome"], left["lockMode"]) == ("retained", "GOVERNANCE")
    assert datetime.fromisoformat(left["retainUntil"]) == until
    assert part(receipt, "subject/2.txt", "locked")["verdict"] == "gone"
    assert receipt["totals"]["retained"] == 1


def test_bypass_governance_erases_a_governance_retained_version(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src")
    buckets(s3, "locked", object_lock=True)
    s3.put_object(
        Bucket="locked",
        Key="subject/1.txt",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=datetime.now(UTC) + timedelta(days=30),
    )

    flags = erase_flags(tmp_path, "s3://src/", "s3://locked/", keys=("subject/1.txt",))
    assert main([*flags, "--bypass-governance"]) == EXIT_OK

    assert keys_in(s3, "locked") == []
    assert part(the_receipt(tmp_path)[1], "subject/1.txt", "locked")["verdict"] == "gone"


NFC = unicodedata.normalize("NFC", "café.txt")
NFD = unicodedata.normalize("NFD", "café.txt")
ODD_KEYS = ("a b.txt", "a+b.txt", "100%.txt", "100%25.txt", NFC)


def test_keys_are_erased_byte_for_byte(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src", "copy")
    for key in (*ODD_KEYS, NFD, "a b.txt.bak", "a%2Bb.txt"):
        s3.put_object(Bucket="copy", Key=key, Body=b"x")
    s3.put_object(Bucket="src", Key="a b.txt.bak", Body=b"x")  # the two are related
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("\n".join(ODD_KEYS) + "\n", encoding="utf-8")

    code = main(
        [*erase_flags(tmp_path / "r", "s3://src/", "s3://copy/"), "--keys-file", str(keys_file)]
    )

    assert code == EXIT_OK
    assert keys_in(s3, "copy") == sorted([NFD, "a b.txt.bak", "a%2Bb.txt"])
    _, receipt = the_receipt(tmp_path / "r")
    assert sorted(receipt["inputs"]["keys"]) == sorted(ODD_KEYS)
    assert all(part(receipt, k, "copy")["verdict"] == "gone" for k in ODD_KEYS)
    assert receipt["inputs"]["keysFile"] == str(keys_file)


def test_a_keys_file_with_crlf_line_ends_is_refused(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="copy", Key="a.txt", Body=b"x")
    keys_file = tmp_path / "keys.txt"
    keys_file.write_bytes(b"a.txt\r\n")

    code = main([*erase_flags(tmp_path, "s3://src/", "s3://copy/"), "--keys-file", str(keys_file)])

    assert code == EXIT_INVALID
    assert keys_in(s3, "copy") == ["a.txt"]


def test_a_keys_file_with_a_byte_order_mark_is_refused(s3: Any, tmp_path: Path) -> None:
    # Its first key would carry U+FEFF: a key no bucket holds, "erased" while secret.txt stays.
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="copy", Key="secret.txt", Body=b"x")
    keys_file = tmp_path / "keys.txt"
    keys_file.write_bytes("\ufeffsecret.txt\n".encode())

    code = main([*erase_flags(tmp_path, "s3://src/", "s3://copy/"), "--keys-file", str(keys_file)])

    assert code == EXIT_INVALID
    assert keys_in(s3, "copy") == ["secret.txt"]


def test_a_report_folder_in_the_source_is_refused_before_anything_is_written_there(
    s3: Any, tmp_path: Path
) -> None:
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="copy", Key="k", Body=b"x")

    flags = erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=("k",))
    assert main([*flags, "--report", "s3://src/reports/"]) == EXIT_INVALID

    assert keys_in(s3, "src") == []
    assert keys_in(s3, "copy") == ["k"]


def test_two_copies_in_one_bucket_take_its_lock_once(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="src", Key="shared.txt", Body=b"x")
    for root in ("x/", "y/"):
        s3.put_object(Bucket="copy", Key=f"{root}k", Body=b"x")
        s3.put_object(Bucket="copy", Key=f"{root}shared.txt", Body=b"x")

    flags = erase_flags(tmp_path, "s3://src/", "s3://copy/x/", "s3://copy/y/", keys=("k",))
    assert main(flags) == EXIT_OK

    assert keys_in(s3, "copy") == ["x/shared.txt", "y/shared.txt"]


def test_ten_thousand_keys_from_a_file_cost_listing_pages_not_a_request_per_key(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    buckets(s3, "src", "copy")
    named = [f"subjects/{n:05d}.json" for n in range(10_000)]
    for key in [*named, "subjects/other.json", "unrelated.txt"]:
        s3.put_object(Bucket="copy", Key=key, Body=b"x")
    s3.put_object(Bucket="src", Key="subjects/other.json", Body=b"x")
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text("\n".join(named) + "\n", encoding="utf-8")

    code = main(
        [*erase_flags(tmp_path / "r", "s3://src/", "s3://copy/"), "--keys-file", str(keys_file)]
    )

    assert code == EXIT_OK
    assert keys_in(s3, "copy") == ["subjects/other.json", "unrelated.txt"]
    line = re.search(
        r"requests: (\d+) LIST, (\d+) verify LIST, (\d+) DeleteObjects", capsys.readouterr().err
    )
    assert line is not None
    lists, verifies, deletes = map(int, line.groups())
    print(f"10,000 keys: {lists} LIST, {verifies} verify LIST, {deletes} DeleteObjects")
    # The source (it holds none: a page) before and after; the target before (a page per
    # 1,000 entries, and one to see the last key's versions end) and after (none left).
    named_keys = 1 + (10 + 1) + 1 + 1
    # Before the purge: the first page of each side, each side's first keys looked up on
    # the other (a page or two), and a key of each side and a named key of the copy
    # listed by prefix and by marker.
    checks = 2 + 2 * 2 + 3 * 2
    assert lists <= named_keys + checks
    assert verifies <= 10 + 1  # verify before destroy: a page per DeleteObjects batch
    assert deletes == 10
    assert the_receipt(tmp_path / "r")[1]["totals"]["purged"] == 10_000


def test_a_prefix_erases_every_key_under_it(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src", "copy")
    for key in (*SUBJECT, "subjects-other.txt"):
        s3.put_object(Bucket="copy", Key=key, Body=b"x")
    s3.put_object(Bucket="src", Key="subjects-other.txt", Body=b"x")
    s3.put_object(Bucket="copy", Key="subject/3.txt", Body=b"x")
    s3.delete_object(Bucket="copy", Key="subject/3.txt")  # current: a delete marker

    code = main([*erase_flags(tmp_path, "s3://src/", "s3://copy/"), "--prefix", "subject/"])

    assert code == EXIT_OK
    assert keys_in(s3, "copy") == ["subjects-other.txt"]
    _, receipt = the_receipt(tmp_path)
    assert receipt["inputs"]["keys"] == [*SUBJECT, "subject/3.txt"]
    assert receipt["inputs"]["prefix"] == "subject/"


def test_a_prefix_the_source_holds_a_key_under_is_refused(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="copy", Key="subject/1.txt", Body=b"x")
    s3.put_object(Bucket="src", Key="subject/9.txt", Body=b"x")

    code = main([*erase_flags(tmp_path, "s3://src/", "s3://copy/"), "--prefix", "subject/"])

    assert code == EXIT_INVALID
    assert keys_in(s3, "copy") == ["subject/1.txt"]


def test_the_check_catches_a_re_upload(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = erased_subject(s3, tmp_path, SUBJECT)
    check = ["erase", "--check", str(path), "--region", "us-east-1"]
    assert main(check) == EXIT_OK
    capsys.readouterr()

    back = s3.put_object(Bucket="copy", Key="subject/2.txt", Body=b"restored from backup")

    assert main(check) == EXIT_FAILED
    err = capsys.readouterr().err
    assert f"CAME BACK: s3://copy/subject/2.txt version {back['VersionId']}" in err
    assert "1 entries came back" in err


def test_a_named_key_in_syncpurge_own_files_is_refused(s3: Any, tmp_path: Path) -> None:
    buckets(s3, "src", "copy")
    s3.put_object(Bucket="copy", Key="reports/summary.json", Body=b"{}")

    code = main(
        [
            *erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=("reports/summary.json",)),
            "--report",
            "s3://copy/reports/",
        ]
    )

    assert code == EXIT_INVALID
    assert "reports/summary.json" in keys_in(s3, "copy")


def test_a_source_root_that_shares_no_key_with_the_copy_is_refused(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The source's files are under data/, and --source names the bucket's root: none of
    # the named keys is there, nor any key the copy holds.
    for name in ("src", "copy"):
        make_versioned_bucket(s3, name)
    for n in range(3):
        s3.put_object(Bucket="src", Key=f"data/customers/{n}.txt", Body=b"x")
        s3.put_object(Bucket="copy", Key=f"customers/{n}.txt", Body=b"x")
    flags = [*erase_flags(tmp_path, "s3://src/", "s3://copy/"), "--prefix", "customers/"]

    assert main(flags) == EXIT_INVALID
    assert "share no key" in capsys.readouterr().err
    assert main([*flags, "--allow-unrelated-source"]) == EXIT_OK
    assert s3.list_object_versions(Bucket="copy").get("Versions", []) == []


def test_an_empty_source_is_refused_unless_allowed(s3: Any, tmp_path: Path) -> None:
    for name in ("src", "copy"):
        make_versioned_bucket(s3, name)
    s3.put_object(Bucket="copy", Key="k", Body=b"x")
    flags = erase_flags(tmp_path, "s3://src/", "s3://copy/", keys=("k",))

    assert main(flags) == EXIT_INVALID
    assert main([*flags, "--allow-unrelated-source"]) == EXIT_OK


def test_reports_list_shows_each_erasure_with_its_receipt(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, receipt = erased_subject(s3, tmp_path, SUBJECT)
    capsys.readouterr()

    assert main(["reports", "list", "--from", str(tmp_path)]) == EXIT_OK

    out = capsys.readouterr().out
    (row,) = [line for line in out.splitlines() if receipt["erasureId"] in line]
    assert row.split()[2:7] == ["2", "2", "0", "0", str(path)]
