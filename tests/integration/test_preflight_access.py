"""A bucket that denies a call preflight makes is refused naming the IAM action it needs,
and where the statements of a cross-account bucket policy come from (issue 19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from syncpurge.cli import EXIT_INVALID, main
from tests.helpers import ACCESS_DENIED, BucketPair, moto_s3_answering, reconcile_flags

pytestmark = pytest.mark.integration


def denying(bucket: str, query: str, method: str = "GET") -> Any:
    """S3 answering 403 AccessDenied to one kind of request on one bucket (moto allows all)."""

    def check(asked: str, request: Any) -> Any:
        url = str(getattr(request, "url", ""))
        if asked == bucket and request.method == method and (query in url if query else True):
            return 403, {"Content-Type": "application/xml"}, ACCESS_DENIED
        return None

    return moto_s3_answering(check)


@pytest.mark.parametrize(
    "denied",
    [
        ("source", "HEAD", "", "s3:ListBucket"),
        ("source", "GET", "versioning", "s3:GetBucketVersioning"),
        ("source", "GET", "versions", "s3:ListBucketVersions"),
        ("target", "GET", "versions", "s3:ListBucketVersions"),
    ],
)
def test_access_denied_in_preflight_names_the_action_and_the_bucket_policy_command(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    denied: tuple[str, str, str, str],
) -> None:
    side, method, query, action = denied
    # Given Case 2, and one bucket whose policy doesn't allow this identity one action
    pair.seed_case_2()
    before = pair.entries()
    bucket = getattr(pair, side)

    # When the CLI runs
    with denying(bucket, query, method):
        code = main(reconcile_flags(pair, "--report", str(tmp_path), "--max-purge-fraction", "1"))

    # Then it is refused naming the bucket, the action and the command; nothing is deleted
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INVALID
    assert f"{side} bucket '{bucket}'" in err
    assert f"access denied to {action}" in err
    assert f"syncpurge bucket-policy --stack <stack> --side {side}" in err
    assert pair.entries() == before
