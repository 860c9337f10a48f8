"""10,000 keys from a keys file, erased through the state machine in one execution at
listing cost: the Erase step's requests are pages, not a request per key."""

from __future__ import annotations

import pytest

from tests.workflow.conftest import REPORTS, Deployed

pytestmark = pytest.mark.workflow


def test_ten_thousand_keys_from_a_keys_file_in_one_execution(deployed: Deployed) -> None:
    pair = deployed.pair
    pair.put_live()
    named = [f"subjects/{n:05d}.json" for n in range(10_000)]
    for key in named:
        pair.put(key, "x", bucket=pair.target)
    body = "\n".join(named).encode()
    pair.client.put_object(Bucket=REPORTS, Key="erasure-requests/10k.txt", Body=body)

    result = deployed.run({"erase": {"keysFile": f"s3://{REPORTS}/erasure-requests/10k.txt"}})

    assert result.status == "SUCCEEDED", result.cause
    erasure = (result.output or {})["erasure"]
    assert erasure["totals"]["purged"] == 10_000
    assert pair.all_keys(pair.target) == {"live"}
    requests = erasure["requests"]
    print(f"10,000 keys through the state machine: {requests}")
    # The named keys: a page per 1,000 entries of the target before, a page each after and
    # on the source; the checks before the purge: a dozen pages (docs/erasure.md).
    assert requests["list"] <= 14 + 12
    assert requests["verify"] <= 11
    assert requests["delete"] == 10
