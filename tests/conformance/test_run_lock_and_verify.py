"""The run lock and verify-by-range on moto's server and on LocalStack (issue 17, defects 5
and 7): the lock rests on versioned PutObject and on ListObjectVersions listing a key's
versions newest first ("in the order they were stored"); verify-by-range on a bare
KeyMarker and on the pages' own next markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from syncpurge.cli.lock import LOCK_KEY, TargetLock
from syncpurge.data.clients import make_s3_client
from syncpurge.data.s3store import S3Store
from syncpurge.models import RunStatus
from syncpurge.phases.verify import VanishedKeyVerifier, VanishedRef, Verdict
from tests.conformance.test_s3_scenarios import run_on
from tests.helpers import BucketPair

pytestmark = [pytest.mark.conformance, pytest.mark.xdist_group("conformance")]


def test_the_oldest_lock_version_holds_and_a_run_frees_only_its_own(
    endpoint: str, pair: BucketPair
) -> None:
    store = S3Store(make_s3_client(region="us-east-1", endpoint_url=endpoint))
    first = TargetLock(store, pair.target, pair.source)
    first.acquire("first")
    late = TargetLock(store, pair.target, pair.source)

    with pytest.raises(Exception, match="first"):
        late.acquire("late")
    assert store.versions_of_key(pair.target, LOCK_KEY) == [first.version_id]

    second = TargetLock(store, pair.target, pair.source)
    second.acquire("second", break_existing=True)
    first.release()  # its version is gone already: the holder's stays
    assert store.versions_of_key(pair.target, LOCK_KEY) == [second.version_id]
    second.release()
    assert store.versions_of_key(pair.target, LOCK_KEY) == []


def test_verify_reads_past_a_key_with_more_versions_than_a_page(
    endpoint: str, pair: BucketPair, tmp_path: Path
) -> None:
    # Given big.txt with 1,200 source versions, and vanished keys right after it
    for i in range(1200):
        pair.put("big.txt", f"{i % 2}")
    pair.put("big.txt", "1", bucket=pair.target)
    for name in ("big.txu", "c"):
        pair.put(name, "gone", bucket=pair.target)
    pair.put_live()
    store = S3Store(make_s3_client(region="us-east-1", endpoint_url=endpoint), page_size=1000)

    # When verify starts inside big.txt's versions (its predecessor is a key before it)
    found = VanishedKeyVerifier(store, pair.source).check(
        [VanishedRef("big.txu", "big.txs", True), VanishedRef("c", "big.txs", True)]
    )

    # Then it answers both, reading on from the pages' own markers
    assert found == Verdict()
    assert store.counter.snapshot().verify == 2
    result, _ = run_on(endpoint, pair, tmp_path, {"maxPurgeFraction": 1.0})
    assert result.summary.status is RunStatus.SUCCEEDED
    assert result.summary.totals.purged == 2
