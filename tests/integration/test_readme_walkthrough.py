"""The README's walkthrough (dry run, review, apply, read the report), run as written on
moto's S3 server, as a user trying it without an AWS account would: `moto_server` from the
`local` extra, the endpoint and test credentials in the environment, and a bucket pair
with leftovers to purge. The block's `./dev run` commands run from the repo, as typed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.s3servers import REPO, free_port

pytestmark = pytest.mark.integration

MARK = "<!-- tests/integration/test_readme_walkthrough.py runs this block as written"


def walkthrough() -> str:
    """The README's walkthrough block, as written."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(re.escape(MARK) + r"[^\n]*\n```sh\n(.*?)```", text, re.DOTALL)
    assert block, f"README.md has no block under {MARK}"
    return block.group(1)


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[str]:
    """`moto_server` in a process of its own, as the README says to start it."""
    port = free_port()
    log = (tmp_path / "moto_server.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
                    break
            except OSError:
                assert server.poll() is None, (tmp_path / "moto_server.log").read_text()
                assert time.monotonic() < deadline, "moto_server did not start"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def entries(s3: Any, bucket: str) -> set[tuple[str, str]]:
    listing = s3.list_object_versions(Bucket=bucket)
    return {
        (e["Key"], e["VersionId"])
        for kind in ("Versions", "DeleteMarkers")
        for e in listing.get(kind, [])
    }


def test_the_readme_walkthrough_runs_as_written_and_purges_exactly_the_leftovers(
    endpoint: str,
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SYNCPURGE_"))
    } | {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    # Given the README's buckets: a source, its copy, and a bucket for the reports
    for bucket in ("my-source", "my-target", "my-reports"):
        s3.create_bucket(Bucket=bucket)
    for bucket in ("my-source", "my-target"):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    # live keys on both sides; a key permanently deleted at the source, whose version and
    # delete marker the copy kept; and a version erased at the source, kept by the copy
    for key in ("data/a.txt", "data/b.txt", "logs/2024/c.log"):
        for bucket in ("my-source", "my-target"):
            s3.put_object(Bucket=bucket, Key=key, Body=f"{key} today".encode())
    s3.put_object(Bucket="my-target", Key="data/erased.txt", Body=b"personal data")
    s3.delete_object(Bucket="my-target", Key="data/erased.txt")
    old = s3.put_object(Bucket="my-target", Key="data/a.txt", Body=b"an old draft")["VersionId"]
    s3.put_object(Bucket="my-target", Key="data/a.txt", Body=b"data/a.txt today")
    leftovers = {e for e in entries(s3, "my-target") if e[0] == "data/erased.txt"}
    leftovers.add(("data/a.txt", old))
    source_before = entries(s3, "my-source")
    target_before = entries(s3, "my-target")

    # When the walkthrough runs as written, each command in order, stopping at a failure
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", walkthrough()],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    # Then it succeeded, showed the plan and the report, and purged exactly the leftovers
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "DRY_RUN" in result.stdout, output
    assert "SUCCEEDED" in result.stdout, output
    # step 4 lists each leftover, purged
    for key, version in leftovers:
        assert any(
            version in line and key in line and "purged" in line
            for line in result.stdout.splitlines()
        ), (key, version, output)
    assert entries(s3, "my-source") == source_before
    assert entries(s3, "my-target") == target_before - leftovers
    assert len(leftovers) == 3
