"""The CLI's run lock lives in the target (.syncpurge/): no door's scope holds it, so a
state machine run or the event path never purges a running CLI run's lock (issue 28
review, R3)."""

from __future__ import annotations

import pytest

from syncpurge.cli.lock import LOCK_KEY, TargetLock
from syncpurge.core.policy import PolicySettings, build_policy
from syncpurge.data.s3store import S3Store
from syncpurge.models import ReconcileRequest
from tests.workflow.conftest import Deployed

pytestmark = pytest.mark.workflow


def test_every_door_s_policy_keeps_the_cli_lock_out_of_scope() -> None:
    settings = PolicySettings("src", "dst", report_bucket="reports")
    policy = build_policy(settings, None, ReconcileRequest(), run_id="r")
    assert not policy.scope.admits(LOCK_KEY), policy.scope.describe()


def test_a_state_machine_run_leaves_a_running_cli_run_s_lock(deployed: Deployed) -> None:
    pair = deployed.pair
    pair.put_live()
    lock = TargetLock(S3Store(pair.client), pair.target, pair.source)
    lock.acquire("cli-run-1")  # a CLI run on the same target, in progress

    result = deployed.run({"skipSync": True, "maxPurgeFraction": 1.0})

    assert result.status == "SUCCEEDED", result.cause
    assert LOCK_KEY in pair.all_keys(pair.target), "the CLI run's lock was purged"
