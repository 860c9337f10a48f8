"""Every request on a bucket names its expected owner (issue 19, first part; docs/design.md §12).

Neither moto nor LocalStack checks `ExpectedBucketOwner`; the tests' proxy answers as S3
does (S3 user guide, "Verifying bucket ownership with bucket owner condition": a request
whose expected owner is not the bucket's is refused with 403 AccessDenied), and records
what each request carried. So a bucket that changed hands (deleted and re-created under
the same name by another account) is refused with nothing deleted, on both servers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from tests.helpers import BucketPair, reconcile_flags
from tests.s3proxy import ProxyLog, s3_proxy

pytestmark = [pytest.mark.conformance, pytest.mark.xdist_group("conformance")]

OURS, THEIRS, OTHER = "111111111111", "222222222222", "999999999999"


def reconcile(url: str, pair: BucketPair, report: Path, *extra: str) -> list[str]:
    flags = ["--endpoint-url", url, "--report", str(report), "--max-purge-fraction", "1"]
    return reconcile_flags(pair, *flags, "--json", *extra)


def test_every_request_on_a_bucket_carries_its_expected_owner(
    endpoint: str, pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the seed's Case 2, the source in one account and the target in another
    pair.seed_case_2()
    log = ProxyLog(owners={pair.source: THEIRS, pair.target: OURS})

    with s3_proxy(endpoint, log=log) as (url, _):
        code = main(
            reconcile(url, pair, tmp_path, "--source-account", THEIRS, "--target-account", OURS)
        )

    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK, summary.get("error")
    assert summary["totals"]["purged"] == 2
    expected = {pair.source: THEIRS, pair.target: OURS}
    seen = [(m, b, owner) for m, b, owner in log.expected_owner if b in expected]
    assert {m for m, _, _ in seen} >= {"GET", "HEAD", "PUT", "POST", "DELETE"}
    assert all(owner == expected[bucket] for _, bucket, owner in seen), seen


@pytest.mark.parametrize("side", ["source", "target"])
def test_a_bucket_that_changed_hands_is_refused_with_nothing_deleted(
    endpoint: str,
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    side: str,
) -> None:
    # Given the target's leftovers, and one bucket now owned by another account
    pair.seed_case_2()
    before = pair.entries()
    owners = {pair.source: OURS, pair.target: OURS}
    owners[getattr(pair, side)] = OTHER
    log = ProxyLog(owners=owners)

    with s3_proxy(endpoint, log=log) as (url, _):
        code = main(
            reconcile(url, pair, tmp_path, "--source-account", OURS, "--target-account", OURS)
        )

    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert getattr(pair, side) in err
    assert OURS in err
    assert log.deletes_sent == []
    assert log.writes_to(pair.target) == 0
    assert pair.entries() == before


def test_without_the_flags_an_s3_compatible_endpoint_gets_no_owner_header(
    endpoint: str, pair: BucketPair, tmp_path: Path
) -> None:
    pair.seed_case_2()
    log = ProxyLog()

    with s3_proxy(endpoint, log=log) as (url, _):
        code = main(reconcile(url, pair, tmp_path))

    assert code == EXIT_OK
    assert log.expected_owner
    assert {owner for _, _, owner in log.expected_owner} == {None}


def test_an_account_that_is_not_twelve_digits_is_refused_naming_the_flag(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(reconcile("http://127.0.0.1:9", pair, tmp_path, "--target-account", "12345"))

    assert code == EXIT_INVALID
    assert "--target-account" in capsys.readouterr().err
