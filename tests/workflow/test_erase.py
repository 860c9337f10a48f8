"""An erasure through the state machine (`{"erase": ...}`, docs/erasure.md): the local
runtime runs the real definition; each test ends in the receipt it states."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from syncpurge.data.s3store import S3Store
from syncpurge.erasure.receipt import read_sealed
from syncpurge.errors import InvalidInput
from syncpurge.workflow.context import RunContext, RunEvent, Stores
from syncpurge.workflow.erase import erase_step
from syncpurge_handlers.erase import RECEIPT_KEY_ENV
from syncpurge_local.runtime import LocalRuntime
from tests.erasures import erased_on
from tests.helpers import exit_code, versioned_pair
from tests.workflow.conftest import REPORTS, Deployed, deploy

pytestmark = pytest.mark.workflow

NFC = unicodedata.normalize("NFC", "café.txt")
NFD = unicodedata.normalize("NFD", "café.txt")


def receipt_of(deployed: Deployed, output: dict[str, Any]) -> dict[str, Any]:
    uri = output["erasure"]["receipt"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    body = deployed.pair.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return read_sealed(body, uri).model_dump(mode="json", by_alias=True)


def test_an_erase_request_purges_the_keys_and_writes_a_signed_receipt(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    monkeypatch.setenv(RECEIPT_KEY_ENV, key)
    deployed = deploy(runtime)
    pair = deployed.pair
    pair.put_live()
    for name in ("subject/1.txt", "subject/2.txt", "subject/2.txt", "subject/1.txt.bak"):
        pair.put(name, "x", bucket=pair.target)

    result = deployed.run({"erase": {"keys": ["subject/1.txt", "subject/2.txt"]}})

    assert result.status == "SUCCEEDED", result.cause
    output = result.output or {}
    assert output["status"] == "SUCCEEDED"
    assert output["erasure"]["totals"]["purged"] == 3
    assert pair.all_keys(pair.target) == {"live", "subject/1.txt.bak"}
    sealed = receipt_of(deployed, output)
    assert sealed["signature"]["keyId"] == key
    verdicts = {
        (k["key"], b["bucket"]): b["verdict"]
        for k in sealed["receipt"]["keys"]
        for b in k["buckets"]
    }
    assert verdicts == {
        ("subject/1.txt", pair.source): "gone",
        ("subject/1.txt", pair.target): "gone",
        ("subject/2.txt", pair.source): "gone",
        ("subject/2.txt", pair.target): "gone",
    }
    assert sealed["receipt"]["caller"] == result.arn
    (note,) = [m for m in deployed.notifications() if "erasure" in m["Subject"]]
    assert note["Subject"].startswith("syncpurge erasure SUCCEEDED")
    assert f"receipt: {output['erasure']['receipt']} (signed)" in note["Message"]


def test_an_erase_of_a_key_the_source_holds_fails_as_invalid_input_and_deletes_nothing(
    deployed: Deployed,
) -> None:
    pair = deployed.pair
    pair.put("subject/1.txt", "x")
    pair.put("subject/1.txt", "x", bucket=pair.target)

    result = deployed.run({"erase": {"keys": ["subject/1.txt"]}})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert "still holds 1 of the named keys" in (result.cause or "")
    assert pair.all_keys(pair.target) == {"subject/1.txt"}


def test_an_erase_from_a_keys_file_in_the_report_bucket(deployed: Deployed) -> None:
    pair = deployed.pair
    pair.put_live()
    named = ["a b.txt", "100%.txt", "a+b.txt", NFC]
    for name in [*named, NFD]:
        pair.put(name, "x", bucket=pair.target)
    body = "\n".join(named).encode()
    pair.client.put_object(Bucket=REPORTS, Key="erasure-requests/ticket-1.txt", Body=body)

    result = deployed.run({"erase": {"keysFile": f"s3://{REPORTS}/erasure-requests/ticket-1.txt"}})

    assert result.status == "SUCCEEDED", result.cause
    assert pair.all_keys(pair.target) == {"live", NFD}  # byte for byte: NFD is another key
    assert json.dumps((result.output or {})["erasure"]["totals"]) == json.dumps(
        {"keys": 4, "purged": 4, "retained": 0, "failed": 0, "notFound": 0}
    )


def test_an_erase_of_a_key_outside_the_deployments_scope_is_refused(
    runtime: LocalRuntime,
) -> None:
    deployed = deploy(runtime, includes="/kept*")
    pair = deployed.pair
    pair.put("other/1.txt", "x", bucket=pair.target)

    result = deployed.run({"erase": {"keys": ["other/1.txt"]}})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert "outside this deployment's scope" in (result.cause or "")
    assert pair.all_keys(pair.target) == {"other/1.txt"}


def test_an_erase_request_with_dry_run_is_refused_before_anything_runs(deployed: Deployed) -> None:
    result = deployed.run({"erase": {"keys": ["k"]}, "dryRun": True})

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert "can't go with dryRun" in (result.cause or "")


def start(deployed: Deployed, *flags: str) -> int:
    arn = deployed.state_machine_arn
    return exit_code(["start", "--state-machine-arn", arn, "--region", "us-east-1", *flags])


def test_start_erase_from_a_local_keys_file_prints_the_receipt(
    deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pair = deployed.pair
    for name in ("subject/1.txt", "subject/2.txt", "kept.txt"):
        pair.put(name, "x", bucket=pair.target)
    pair.put("kept.txt", "x")
    keys = tmp_path / "keys.txt"
    keys.write_text("subject/1.txt\nsubject/2.txt\n", encoding="utf-8")

    code = start(deployed, "--erase-keys-file", str(keys), "--json")

    assert code == EXIT_OK
    erasure = json.loads(capsys.readouterr().out)
    assert erasure["totals"]["purged"] == 2
    assert erasure["receipt"].endswith("/receipt.json")
    assert pair.all_keys(pair.target) == {"kept.txt"}


def test_start_erase_of_a_key_the_source_holds_exits_2(deployed: Deployed) -> None:
    deployed.pair.put("held.txt", "x")
    deployed.pair.put("held.txt", "x", bucket=deployed.pair.target)

    assert start(deployed, "--erase", "held.txt") == EXIT_INVALID
    assert deployed.pair.all_keys(deployed.pair.target) == {"held.txt"}


def test_start_erase_with_dry_run_is_refused_before_starting(deployed: Deployed) -> None:
    assert start(deployed, "--erase", "k", "--dry-run") == EXIT_INVALID


def test_a_run_after_an_erasure_notifies_a_key_that_came_back_and_writes_a_follow_up(
    deployed: Deployed,
) -> None:
    pair = deployed.pair
    erased = erased_on(deployed)
    deployed.notifications()  # the erasure's own
    back = pair.put("subject.txt", "restored from backup", bucket=pair.target)

    run = deployed.run({"skipSync": True, "dryRun": True, "maxPurgeFraction": 1.0})

    assert run.status == "SUCCEEDED", run.cause
    messages = deployed.notifications()
    (alert,) = [m for m in messages if "came back" in m["Subject"]]
    assert f"s3://{pair.target}/subject.txt {back}" in alert["Message"]
    receipt = (erased.output or {})["erasure"]["receipt"]
    bucket, _, key = receipt.removeprefix("s3://").partition("/")
    run_id = (run.output or {})["summary"]["runId"]
    followup_key = key.replace("receipt.json", f"followup-{run_id}.json")
    followup = json.loads(pair.client.get_object(Bucket=bucket, Key=followup_key)["Body"].read())
    assert [e["versionId"] for e in followup["followUp"]["cameBack"]] == [back]
    assert followup["followUp"]["receiptDigest"] == (erased.output or {})["erasure"]["digest"]


def test_a_deployment_with_erase_check_days_0_follows_up_nothing(runtime: LocalRuntime) -> None:
    deployed = deploy(runtime, erase_check_days=0)
    pair = deployed.pair
    pair.put_live()
    pair.put("subject.txt", "x", bucket=pair.target)
    assert deployed.run({"erase": {"keys": ["subject.txt"]}}).status == "SUCCEEDED"
    deployed.notifications()
    pair.put("subject.txt", "back", bucket=pair.target)

    run = deployed.run({"skipSync": True, "dryRun": True, "maxPurgeFraction": 1.0})

    assert run.status == "SUCCEEDED", run.cause
    assert not [m for m in deployed.notifications() if "came back" in m["Subject"]]


def test_a_deployment_s_prefixes_bind_an_erasure_s_keys(runtime: LocalRuntime) -> None:
    deployed = deploy(runtime, prefixes=("kept/",))
    pair = deployed.pair
    pair.put("kept/live.txt", "x")
    pair.put("kept/live.txt", "x", bucket=pair.target)
    for key in ("kept/subject.txt", "other/subject.txt"):
        pair.put(key, "x", bucket=pair.target)

    inside = deployed.run({"erase": {"keys": ["kept/subject.txt"]}})
    outside = deployed.run({"erase": {"keys": ["other/subject.txt"]}})

    assert inside.status == "SUCCEEDED", inside.cause
    assert (outside.status, outside.error) == ("FAILED", "InvalidInput")
    assert "outside this deployment's scope" in (outside.cause or "")
    assert pair.all_keys(pair.target) == {"kept/live.txt", "other/subject.txt"}


def test_a_retried_erase_step_returns_the_first_receipt_and_never_overwrites_it(
    deployed: Deployed,
) -> None:
    # Step Functions retries a Lambda whose first invocation may have run to the end.
    pair = deployed.pair
    result = erased_on(deployed)
    run_id = result.arn.rsplit(":", 1)[-1]
    stored = pair.client.get_object(Bucket=REPORTS, Key=f"syncpurge-work/{run_id}/run.json")
    event = RunEvent(run=RunContext.model_validate(json.loads(stored["Body"].read())))
    bucket, _, key = (
        (result.output or {})["erasure"]["receipt"].removeprefix("s3://").partition("/")
    )
    first = pair.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    again = erase_step(event, Stores(S3Store(pair.client)), signer=None)

    assert again["totals"]["purged"] == 1
    assert pair.client.get_object(Bucket=bucket, Key=key)["Body"].read() == first
    pair.client.delete_object(Bucket=bucket, Key=key)  # as if the first attempt died mid-way
    with pytest.raises(InvalidInput, match="an earlier attempt of this erasure stopped mid-way"):
        erase_step(event, Stores(S3Store(pair.client)), signer=None)


def test_an_erasure_on_a_deployment_that_requires_approval_is_refused(
    runtime: LocalRuntime,
) -> None:
    deployed = deploy(runtime, require_approval=True)
    pair = deployed.pair
    pair.put_live()
    pair.put("subject.txt", "x", bucket=pair.target)

    result = deployed.run({"erase": {"keys": ["subject.txt"]}})

    assert (result.status, result.error) == ("FAILED", "InvalidInput")
    assert "requires approval of every purge" in (result.cause or "")
    assert "subject.txt" in pair.all_keys(pair.target)


def test_erase_maps_the_keys_by_a_datasync_tasks_locations(
    runtime: LocalRuntime, tmp_path: Path
) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = versioned_pair(s3, "task-src", "task-dst", reports="task-reports")
    task = runtime.create_task(
        pair.source,
        pair.target,
        report_bucket="task-reports",
        source_subdirectory="data/",
        target_subdirectory="copy/",
    )
    pair.put("data/live.txt", "x")
    for key in ("copy/live.txt", "copy/subject.txt", "subject.txt"):
        pair.put(key, "x", bucket=pair.target)

    where = ["--report", str(tmp_path), "--region", "us-east-1"]
    code = main(["erase", "--task-arn", task, "--key", "subject.txt", *where])

    assert code == EXIT_OK
    assert pair.all_keys(pair.target) == {"copy/live.txt", "subject.txt"}
    (receipt,) = tmp_path.glob("*/receipt.json")
    inputs = json.loads(receipt.read_text())["receipt"]["inputs"]
    assert inputs["source"] == {"bucket": "task-src", "root": "data/"}
    assert inputs["targets"] == [{"bucket": "task-dst", "root": "copy/"}]


def test_an_erasure_keeps_a_governance_retained_version_and_the_receipt_dates_it(
    runtime: LocalRuntime,
) -> None:
    deployed = deploy(runtime, target_lock=True)
    pair = deployed.pair
    pair.put_live()
    until = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    pair.client.put_object(
        Bucket=pair.target,
        Key="held.txt",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=until,
    )
    pair.put("gone.txt", "x", bucket=pair.target)

    result = deployed.run({"erase": {"keys": ["held.txt", "gone.txt"]}})

    assert result.status == "SUCCEEDED", result.cause
    assert pair.all_keys(pair.target) == {"live", "held.txt"}
    sealed = receipt_of(deployed, result.output or {})
    parts = {(k["key"], b["bucket"]): b for k in sealed["receipt"]["keys"] for b in k["buckets"]}
    held = parts[("held.txt", pair.target)]
    assert held["verdict"] == "retained"
    (left,) = held["left"]
    assert (left["lockMode"], datetime.fromisoformat(left["retainUntil"])) == ("GOVERNANCE", until)
    assert parts[("gone.txt", pair.target)]["verdict"] == "gone"
