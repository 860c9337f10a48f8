"""One CLI run per target at a time, whatever --report says (issue 17, defect 5).

The lock lives in the target (`syncpurge.cli.lock`): each run writes a version of its own and
the oldest surviving version holds it; a run releases only its own version.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, main
from syncpurge.cli.lock import LOCK_KEY, TargetLock
from syncpurge.data.s3store import S3Store
from syncpurge.errors import AlreadyRunning, PreflightRefused
from tests.helpers import BucketPair, reconcile_flags

pytestmark = pytest.mark.integration


def lock(pair: BucketPair) -> TargetLock:
    return TargetLock(S3Store(pair.client), pair.target, pair.source)


def lock_versions(pair: BucketPair) -> list[str]:
    return S3Store(pair.client).versions_of_key(pair.target, LOCK_KEY)


@pytest.mark.parametrize("report_of_b", ["folder", "s3"])
def test_a_run_holding_the_target_refuses_another_whatever_its_report(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], report_of_b: str
) -> None:
    # Given run A holding the lock (its report: s3://ops-reports/syncpurge/)
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    run_a = lock(pair)
    run_a.acquire("run-a")
    report = str(tmp_path / "local")
    if report_of_b == "s3":
        pair.client.create_bucket(Bucket="other-reports")
        report = "s3://other-reports/elsewhere/"

    # When run B starts on the same target with another --report
    code = main(reconcile_flags(pair, "--report", report, "--max-purge-fraction", "1"))

    # Then B is refused, naming the lock and --break-lock, and deletes nothing
    assert code == EXIT_INVALID
    err = capsys.readouterr().err
    assert "--break-lock" in err
    assert "run-a" in err
    assert "gone" in pair.all_keys(pair.target)
    assert lock_versions(pair) == [run_a.version_id]
    # And once A releases, B runs, leaving no trace of the lock in the target
    run_a.release()
    assert main(reconcile_flags(pair, "--report", report, "--max-purge-fraction", "1")) == 0
    assert "gone" not in pair.all_keys(pair.target)
    assert lock_versions(pair) == []


def test_a_run_whose_lock_was_broken_never_frees_the_new_holder_s(pair: BucketPair) -> None:
    first = lock(pair)
    first.acquire("first")
    second = lock(pair)
    second.acquire("second", break_existing=True)

    first.release()

    assert lock_versions(pair) == [second.version_id]
    with pytest.raises(AlreadyRunning, match="second"):
        lock(pair).acquire("third")


def test_the_losing_writer_backs_off_and_the_oldest_version_holds(pair: BucketPair) -> None:
    holder = lock(pair)
    holder.acquire("holder")

    with pytest.raises(AlreadyRunning):
        lock(pair).acquire("late")

    assert lock_versions(pair) == [holder.version_id]  # the loser deleted its own version


def test_a_delete_marker_on_the_lock_key_does_not_free_it(pair: BucketPair) -> None:
    # e.g. a DataSync task with PreserveDeletedFiles=REMOVE whose location is the bucket root
    holder = lock(pair)
    holder.acquire("holder")
    pair.client.delete_object(Bucket=pair.target, Key=LOCK_KEY)

    with pytest.raises(AlreadyRunning):
        lock(pair).acquire("next")


def test_the_lock_refuses_an_unversioned_or_same_bucket_target_writing_nothing(
    pair: BucketPair,
) -> None:
    pair.client.create_bucket(Bucket="plain")
    with pytest.raises(PreflightRefused, match="not versioned"):
        TargetLock(S3Store(pair.client), "plain", pair.source).acquire("x")
    with pytest.raises(PreflightRefused, match="same bucket"):
        TargetLock(S3Store(pair.client), pair.source, pair.source).acquire("x")
    assert pair.client.list_objects_v2(Bucket="plain").get("KeyCount", 0) == 0
    assert pair.all_keys(pair.source) == set()


def test_the_lock_key_is_outside_the_scope_of_a_whole_bucket_run(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The run's own lock version (and a killed run's) is never planned as a vanished key
    pair.put_live()
    lock(pair).acquire("killed")
    flags = reconcile_flags(pair, "--report", str(tmp_path), "--break-lock", "--dry-run")

    assert main([*flags, "--max-purge-fraction", "1", "--json"]) == 0

    summary = json.loads(capsys.readouterr().out)
    assert summary["totals"]["planned"] == 0
    assert summary["totals"]["targetEntries"] == 1
    assert lock_versions(pair) == []


def test_a_lock_that_can_t_be_released_is_a_warning_not_the_run_s_outcome(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from botocore.exceptions import ClientError

    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    removing = S3Store.remove_version

    def refusing(self: S3Store, bucket: str, key: str, version_id: str) -> None:
        if key == LOCK_KEY:
            denied = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
            raise ClientError(denied, "DeleteObject")  # type: ignore[arg-type]
        removing(self, bucket, key, version_id)

    monkeypatch.setattr(S3Store, "remove_version", refusing)

    code = main(reconcile_flags(pair, "--max-purge-fraction", "1", "--report", str(tmp_path)))

    # The run purged: its exit code says so, and the lock left behind is named
    assert code == 0
    assert "gone" not in pair.all_keys(pair.target)
    err = capsys.readouterr().err
    assert "could not be released" in err
    assert "--break-lock" in err
