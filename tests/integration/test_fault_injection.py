"""Invariants 1, 2, 6 and 8 under injected faults, on seeded random histories (issue 8).

Between syncpurge and moto's server, `tests.s3proxy` injects 503 SlowDown, 500
InternalError, connection resets before and after the server acts, and per-key `Errors` in
DeleteObjects answers. Each seed's history is reconciled twice: fault-free, and under
faults followed by at most one fault-free rerun; the end states must be equal.
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.faultrun import run_seed
from tests.s3proxy import FAULT_KINDS, FaultPlan, s3_proxy

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("credentials")]

SEEDS = range(6)  # `python -m tests.faultrun 40` runs more for docs/reliability.md's figures


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("harsh", [False, True], ids=["engine-retries", "harsh"])
def test_invariants_hold_under_injected_faults(
    endpoint: str, tmp_path: Path, seed: int, harsh: bool
) -> None:
    # Harsh: so many faults and so few attempts that some deletes fail for good and the
    # run stops part-way; invariant 6 must hold then too, and one rerun must finish it.
    figures = run_seed(seed, endpoint, tmp_path, harsh=harsh)

    assert sum(figures.faults.values()) > 0, "the seed injected no fault"
    assert figures.wrongly_deleted == 0  # invariant 1
    assert figures.source_writes == 0  # invariant 2
    assert figures.visible_changed == 0  # invariant 6
    assert figures.unaccounted == 0  # invariant 8
    assert figures.converged, "not the fault-free end state after one rerun"


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_the_proxy_injects_each_kind_of_fault(endpoint: str, kind: str) -> None:
    # Given a proxy that gives every request this fault, and a client that never retries
    setup = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = f"proxy-{kind}"
    setup.create_bucket(Bucket=bucket)
    version = setup.put_object(Bucket=bucket, Key="k", Body=b"1").get("VersionId", "null")
    plan = FaultPlan(rate=1.0, kinds=(kind,), key_error_rate=1.0)
    with s3_proxy(endpoint, plan) as (url, log):
        client = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        delete = {"Objects": [{"Key": "k", "VersionId": version}]}
        # When one DeleteObjects is sent / Then it fails as that fault fails
        if kind == "key-errors":
            answer = client.delete_objects(Bucket=bucket, Delete=delete)
            assert [e["Code"] for e in answer["Errors"]] == ["InternalError"]
            assert "Deleted" not in answer
        else:
            expected = ClientError if kind in ("slowdown", "internal") else BotoCoreError
            with pytest.raises(expected):
                client.delete_objects(Bucket=bucket, Delete=delete)
    assert plan.injected == {kind: 1}
    # A reset after forwarding lost the answer of a delete the server carried out
    still_there = "Versions" in setup.list_object_versions(Bucket=bucket)
    assert still_there is (kind != "reset-after")
    assert (log.deletes_sent == [(bucket, "k", version)]) is (kind == "reset-after")
