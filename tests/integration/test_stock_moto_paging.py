"""The CLI against an S3 endpoint that pages a KeyMarker unlike S3 (issue 17, defect 7).

Stock moto (`python -m moto.server`, without the project's paging shim) answers a KeyMarker
without a VersionIdMarker with that key's own remaining versions, where S3 starts after the
whole key ("KeyMarker: Specifies the key to start with when listing objects in a bucket",
ListObjectVersions, S3 API reference). Verify-by-range jumped to such a marker and was
answered the same page forever. It must finish, following the pages' own next markers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, main
from syncpurge.data.s3shapes import ListingPage
from syncpurge.models import Entry
from syncpurge.phases.verify import ListingStalled, VanishedKeyVerifier, VanishedRef
from tests.helpers import make_versioned_bucket
from tests.s3servers import moto_server

pytestmark = pytest.mark.integration

SYNCPURGE = Path(sys.executable).parent / "syncpurge"


@pytest.fixture(scope="module")
def stock_moto() -> Iterator[str]:
    with moto_server(like_s3=False) as url:
        yield url


def test_verify_by_range_finishes_on_a_store_that_pages_a_key_marker_differently(
    stock_moto: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", endpoint_url=stock_moto, region_name="us-east-1")
    make_versioned_bucket(s3, "stock-src")
    make_versioned_bucket(s3, "stock-dst")
    # Given big.txt with 1,500 source versions, and vanished keys that follow it
    for i in range(1500):
        s3.put_object(Bucket="stock-src", Key="big.txt", Body=f"{i % 3}".encode())
    s3.put_object(Bucket="stock-dst", Key="big.txt", Body=b"2")
    for name in ("big.txu", "c/1", "c/2"):
        s3.put_object(Bucket="stock-dst", Key=name, Body=b"gone")
    args = [str(SYNCPURGE), "reconcile", "--source-bucket", "stock-src"]
    args += ["--target-bucket", "stock-dst", "--endpoint-url", stock_moto]
    args += ["--region", "us-east-1", "--report", str(tmp_path), "--json"]
    args += ["--max-purge-fraction", "1"]

    # When the CLI reconciles (bounded: it used to send the same request for ever)
    done = subprocess.run(args, capture_output=True, timeout=300, check=False)

    # Then it finishes, the vanished keys are gone, and big.txt is untouched
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary = json.loads(done.stdout)
    assert summary["totals"]["purged"] == 3
    left = s3.list_object_versions(Bucket="stock-dst").get("Versions", [])
    assert [v["Key"] for v in left] == ["big.txt"]
    assert summary["requests"]["verify"] <= 4


class StalledSource:
    """An endpoint whose truncated page names, as its next markers, the markers it got."""

    counter = None

    def __init__(self) -> None:
        self.asked = 0

    def verify_page(
        self, bucket: str, prefix: str, after: str | None = None, version_marker: str = ""
    ) -> ListingPage:
        self.asked += 1
        entry = Entry("a", "v1", True, None, False, 1, '"e"')  # type: ignore[arg-type]
        return ListingPage([entry], [], True, None, (after or "a", version_marker or "v1"))


def test_a_listing_that_makes_no_progress_stops_with_an_error_naming_the_endpoint() -> None:
    source = StalledSource()
    verifier = VanishedKeyVerifier(source, "src")  # type: ignore[arg-type]

    with pytest.raises(ListingStalled, match="does not page like S3"):
        verifier.check([VanishedRef("b", "a", True)])

    assert source.asked <= 2


def test_an_erasure_on_a_store_that_skips_the_entry_after_a_marker_is_refused(
    stock_moto: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # moto's server, unpatched, drops the first entry after a KeyMarker that names no key:
    # listed so, a key the source holds would look gone, and a receipt would lie.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", endpoint_url=stock_moto, region_name="us-east-1")
    for bucket in ("erase-src", "erase-dst"):
        make_versioned_bucket(s3, bucket)
        s3.put_object(Bucket=bucket, Key="shared.txt", Body=b"x")
    s3.put_object(Bucket="erase-dst", Key="subject.txt", Body=b"x")

    flags = ["--source", "s3://erase-src/", "--target", "s3://erase-dst/", "--key", "subject.txt"]
    where = ["--report", str(tmp_path), "--endpoint-url", stock_moto, "--region", "us-east-1"]
    code = main(["erase", *flags, *where])

    assert code == EXIT_INVALID
    assert "lists unlike S3 after a KeyMarker" in capsys.readouterr().err
    kept = s3.list_object_versions(Bucket="erase-dst").get("Versions", [])
    assert sorted(v["Key"] for v in kept) == ["shared.txt", "subject.txt"]
