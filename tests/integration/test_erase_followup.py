"""A receipt followed up (`syncpurge.erasure.followup`, what a deployment runs after each
run): a version Object Lock retained is purged once its date passed, and the follow-up
beside the receipt says so; one still retained stays."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncpurge.cli import EXIT_OK, main
from syncpurge.data.files import FolderStore
from syncpurge.data.s3store import S3Store
from syncpurge.erasure.followup import FollowUpRun, follow_up
from syncpurge.phases.report import StoreDestination
from tests.erasures import buckets, erase_flags, keys_in, the_receipt

pytestmark = pytest.mark.integration


def test_a_retention_that_ended_releases_the_entry_and_the_follow_up_records_it(
    s3: Any, tmp_path: Path
) -> None:
    buckets(s3, "src")
    buckets(s3, "locked", object_lock=True)
    soon = datetime.now(UTC) + timedelta(seconds=2)
    later = datetime.now(UTC) + timedelta(days=30)
    for key, until in (("ends-soon.txt", soon), ("ends-later.txt", later)):
        s3.put_object(
            Bucket="locked",
            Key=key,
            Body=b"x",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=until,
        )
    flags = erase_flags(
        tmp_path, "s3://src/", "s3://locked/", keys=("ends-soon.txt", "ends-later.txt")
    )
    assert main(flags) == EXIT_OK
    path, receipt = the_receipt(tmp_path)
    assert receipt["totals"]["retained"] == 2
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 1.1)

    store = S3Store(s3)
    folder = StoreDestination(FolderStore(path.parent.parent), path.parent.name, "")
    run = FollowUpRun(
        store, store, folder, lambda: datetime.now(UTC), "20261207T000000Z-000000", may_release=True
    )
    done = follow_up(str(path), path.read_bytes(), run)

    assert [(e.bucket_key, e.outcome) for e in done.released] == [("ends-soon.txt", "purged")]
    assert done.came_back == []
    assert keys_in(s3, "locked") == ["ends-later.txt"]
    written = json.loads((path.parent / "followup-20261207T000000Z-000000.json").read_text())
    (released,) = written["followUp"]["released"]
    assert (released["bucketKey"], released["proof"]) == ("ends-soon.txt", "vanished")
    assert written["followUp"]["receiptDigest"] == json.loads(path.read_text())["digest"]["value"]
