"""A run's files in a local folder (data.files.FolderStore) answer as S3 does."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncpurge.data.files import FolderStore

pytestmark = pytest.mark.unit


def test_objects_are_files_under_their_bucket_folder(tmp_path: Path) -> None:
    store = FolderStore(tmp_path)

    store.put_bytes("reports", "syncpurge-work/run/guard.json", b"{}", "application/json")

    assert (tmp_path / "reports/syncpurge-work/run/guard.json").read_bytes() == b"{}"
    assert store.get_bytes("reports", "syncpurge-work/run/guard.json") == b"{}"
    assert store.get_bytes_or_none("reports", "syncpurge-work/run/missing.json") is None
    with pytest.raises(FileNotFoundError):
        store.get_bytes("reports", "syncpurge-work/run/missing.json")


def test_keys_list_under_a_prefix_in_s3_order(tmp_path: Path) -> None:
    # Given keys whose UTF-8 order differs from their code points' (U+FF5E sorts after
    # U+00E9 either way; '~' before 'é' in bytes), and one outside the prefix
    store = FolderStore(tmp_path)
    for key in ("w/run/plan/b.jsonl", "w/run/plan/a.jsonl", "w/run/plan/é", "w/run/plan/~"):
        store.put_bytes("reports", key, b"x", "text/plain")
    store.put_bytes("reports", "w/run/planned.json", b"x", "text/plain")
    store.put_bytes("reports", "w/other/plan/a.jsonl", b"x", "text/plain")

    keys = store.list_keys("reports", "w/run/plan/")
    assert keys == sorted(keys, key=str.encode)
    assert keys == ["w/run/plan/a.jsonl", "w/run/plan/b.jsonl", "w/run/plan/~", "w/run/plan/é"]
    # A prefix that ends inside a name lists what S3 would: every key starting with it
    assert store.list_keys("reports", "w/run/plan") == [*keys, "w/run/planned.json"]
    assert store.list_keys("reports", "none/") == []
    assert store.list_keys("absent-bucket", "") == []


def test_a_write_in_progress_is_no_key(tmp_path: Path) -> None:
    # Given a file being written aside (a run killed mid-write leaves it so)
    store = FolderStore(tmp_path)
    store.put_bytes("reports", "r/journal/batch-1.jsonl", b"whole", "text/plain")
    (tmp_path / "reports/r/journal/.batch-2.jsonl.partial").write_bytes(b"ha")

    # Then only the whole file is listed
    assert store.list_keys("reports", "r/journal/") == ["r/journal/batch-1.jsonl"]


@pytest.mark.parametrize(
    ("bucket", "key"),
    [
        ("reports", "../elsewhere"),
        ("reports", "a/../../b"),
        ("reports", "k/"),  # would be the file 'k' (S3 keeps 'k' and 'k/' apart)
        ("reports", "."),  # would be the bucket's folder
        ("..", "x"),
        ("a/b", "x"),
        ("r", ""),
    ],
)
def test_a_key_outside_its_bucket_folder_is_refused(tmp_path: Path, bucket: str, key: str) -> None:
    store = FolderStore(tmp_path / "root")

    with pytest.raises(ValueError, match=r"not a (key|bucket) of a local folder store"):
        store.put_bytes(bucket, key, b"x", "text/plain")
    assert list(tmp_path.rglob("*")) == []


def test_listing_stays_in_its_bucket_and_sees_neither_links_nor_folders(tmp_path: Path) -> None:
    # Given two buckets' folders, and a link inside one to the other's file
    store = FolderStore(tmp_path)
    store.put_bytes("reports", "w/a.json", b"a", "application/json")
    store.put_bytes("other", "w/secret.json", b"s", "application/json")
    (tmp_path / "reports/w/link.json").symlink_to(tmp_path / "other/w/secret.json")

    # Then a prefix that climbs out lists nothing, a link is no key, and a folder is no
    # object (as 'a' is no key in S3 when only 'a/x' is)
    assert store.list_keys("reports", "../other/w/") == []
    assert store.list_keys("reports", "w/") == ["w/a.json"]
    assert store.get_bytes_or_none("reports", "w") is None
    with pytest.raises(ValueError, match="not a key of a local folder store"):
        store.get_bytes("reports", "w/link.json")
