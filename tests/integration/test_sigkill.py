"""A CLI run killed with SIGKILL at random moments (issue 8, invariants 6 and 8, docs/design.md §5).

Each seed builds the same random history in two bucket pairs on one moto server. Pair A is
reconciled in-process, fault-free: the end state to reach. Pair B is reconciled by the
`syncpurge` CLI in a subprocess whose requests pass through `tests.s3proxy`; the proxy
kills the process (SIGKILL: no handler runs) when a chosen request arrives, or just after
the server carried out the first delete, before its answer reaches the client. Then:
- every delete the server carried out for the killed run is in its journal (invariant 8),
  which was written, with plan.json, before the first delete;
- no key's current entry changed except by vanishing (invariant 6);
- a rerun is refused while the dead run's lock stands (exit 2) and, with --break-lock,
  reaches pair A's end state.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from syncpurge.cli.lock import LOCK_KEY
from tests.engine_runs import run_engine
from tests.faultrun import journal_refs, ordered_entries, signature, twin_pairs
from tests.helpers import BucketPair, run_folders
from tests.s3proxy import ProxyLog, s3_proxy
from tests.s3servers import moto_server

pytestmark = pytest.mark.integration

SEEDS = range(8)
SYNCPURGE = Path(sys.executable).parent / "syncpurge"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}


def cli(pair: BucketPair, url: str, report: Path, *extra: str) -> list[str]:
    return [
        str(SYNCPURGE),
        "reconcile",
        "--source-bucket",
        pair.source,
        "--target-bucket",
        pair.target,
        "--endpoint-url",
        url,
        "--region",
        "us-east-1",
        "--report",
        str(report),
        "--max-purge-fraction",
        "1",
        "--allow-unrelated-source",
        *extra,
    ]


def rerun_cli(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)


class Killer:
    """Kills the CLI process at one chosen moment; records what the moment was."""

    def __init__(self, rng: random.Random, requests: int) -> None:
        moments = ["arrival", "arrival", "first-delete-arrived", "first-delete-done"]
        self.moment = rng.choice(moments)
        self.at_arrival = rng.randrange(1, requests)  # within what a whole run sends
        self.process: subprocess.Popen[bytes] | None = None
        self.killed_at: str | None = None

    def __call__(self, stage: str, arrival: int, is_delete: bool) -> None:
        if self.process is None or self.killed_at is not None:
            return
        hit = (
            (self.moment == "arrival" and stage == "arrived" and arrival == self.at_arrival)
            or (self.moment == "first-delete-arrived" and stage == "arrived" and is_delete)
            or (self.moment == "first-delete-done" and stage == "carried-out" and is_delete)
        )
        if hit:
            self.killed_at = f"{self.moment} (request {arrival})"
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.mark.parametrize("seed", SEEDS)
def test_a_killed_run_is_journaled_and_a_rerun_finishes_it(
    endpoint: str, tmp_path: Path, cli_env: dict[str, str], seed: int
) -> None:
    # Given the same history in two pairs, and pair A reconciled without interruption
    rng = random.Random(f"sigkill-{seed}")
    setup, clean, killed = twin_pairs(endpoint, rng, f"k{seed}")
    with s3_proxy(endpoint) as (url, clean_log):
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        request = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}
        run_engine(clean, tmp_path / "clean", request, client=client, source_client=client)
    target_before = ordered_entries(setup, killed.target)
    report = tmp_path / "reports"

    # When the CLI reconciles pair B and is killed at a random moment
    killer = Killer(rng, clean_log.arrivals)
    log = ProxyLog(tripwire=killer)
    with s3_proxy(endpoint, log=log) as (url, _):
        process = subprocess.Popen(
            cli(killed, url, report),
            env=cli_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        killer.process = process
        _, stderr = process.communicate(timeout=120)
    assert killer.killed_at is not None, f"the run ended before the kill: {stderr.decode()}"
    assert process.returncode == -signal.SIGKILL

    # Then every delete the server carried out is in the killed run's journal
    folders = run_folders(report)
    sent = {(key, version) for bucket, key, version in log.deletes_sent if bucket == killed.target}
    if sent or killer.moment != "arrival":
        assert len(folders) == 1, f"no report folder after a kill at {killer.killed_at}"
        workspace = report / "syncpurge-work" / folders[0].name
        assert (workspace / "guard.json").is_file(), "no plan before the first delete"
        assert sent <= journal_refs(folders[0]), killer.killed_at
    # And no key's current entry changed except by vanishing (invariant 6)
    target_after = ordered_entries(setup, killed.target)
    for key, entries in target_before.items():
        after = target_after.get(key)
        assert not after or after[0][0] == entries[0][0], (key, killer.killed_at)

    # When it runs again: refused while the dead run's lock stands (a run killed in its
    # preflight, before it wrote the lock, left none), then with --break-lock
    locked = LOCK_KEY in target_after
    with s3_proxy(endpoint) as (url, _):
        if locked:
            refused = rerun_cli(cli(killed, url, report), cli_env)
            assert refused.returncode == 2, refused.stderr.decode()
            assert "--break-lock" in refused.stderr.decode()
        rerun = rerun_cli(cli(killed, url, report, "--break-lock"), cli_env)
    assert rerun.returncode == 0, rerun.stderr.decode()

    # Then pair B is where the uninterrupted run left pair A
    assert signature(setup, killed.target) == signature(setup, clean.target), killer.killed_at
