"""The follow-up every run ends with (RecheckErasures, docs/erasure.md) trusts a receipt
only as far as it can prove it: one planted or edited in the report folder never deletes
anything, and a bad one never stops the others from being checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from syncpurge.data.aws import NotificationGateway
from syncpurge.data.s3store import S3Store
from syncpurge.data.signing import kms_verifier
from syncpurge.erasure.receipt import (
    KeyInBucket,
    KeyReceipt,
    LeftEntry,
    Listing,
    Receipt,
    Signature,
    Verdict,
    digest_of,
    read_sealed,
    seal,
    sealed_bytes,
    signature_value,
)
from syncpurge.workflow.context import RunContext, RunEvent, Stores
from syncpurge.workflow.recheck import recheck_step, signed_by_us
from syncpurge_handlers.erase import RECEIPT_KEY_ENV
from syncpurge_local.runtime import LocalRuntime
from tests.erasures import a_receipt as erasure_receipt
from tests.erasures import erased_on
from tests.workflow.conftest import REPORTS, Deployed, deploy
from tests.workflow.test_deployment_mode import replication_deployment

pytestmark = pytest.mark.workflow

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
RUN = {"skipSync": True, "maxPurgeFraction": 1.0, "allowUnrelatedSource": True}


def planted(deployed: Deployed, key: str, version_id: str, *, bucket: str = "") -> Receipt:
    """A receipt no erasure wrote: `key`'s live version 'retained until 2000'."""
    pair = deployed.pair
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    part = KeyInBucket(
        bucket=bucket or pair.target,
        role="target",
        bucket_key=key,
        verdict=Verdict.RETAINED,
        held_before=1,
        left=[
            LeftEntry(
                version_id=version_id,
                kind="version",
                last_modified=LONG_AGO,
                outcome="retained",
                lock_mode="GOVERNANCE",
                retain_until=LONG_AGO,
            )
        ],
        listed_after=Listing(at=LONG_AGO, request_id=None),
    )
    target = bucket or pair.target
    return erasure_receipt(
        [KeyReceipt(key=key, buckets=[part])],
        source=(pair.source, ""),
        targets=((target, ""),),
        erasure_id=f"{stamp}-abcdef",
        at=LONG_AGO,
    )


def reports_root(deployed: Deployed) -> str:
    """The folder the deployment's run folders go in (an execution's report's parent)."""
    run = deployed.run({**RUN, "dryRun": True})
    report = (run.output or {})["report"].removeprefix(f"s3://{REPORTS}/")
    return report.rstrip("/").rpartition("/")[0] + "/"


def put_receipt(deployed: Deployed, root: str, receipt: Receipt, body: bytes) -> None:
    key = f"{root}{receipt.erasure_id}/receipt.json"
    deployed.pair.client.put_object(Bucket=REPORTS, Key=key, Body=body)


def test_a_planted_receipt_never_deletes_what_the_runs_keep(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a replication deployment whose receipts are signed: its runs keep an object
    # written at the target (not a replica), which no source re-check would save
    kms = boto3.client("kms", region_name="us-east-1")
    ours = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    theirs = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]
    monkeypatch.setenv(RECEIPT_KEY_ENV, ours)
    deployed = replication_deployment(runtime)
    pair = deployed.pair
    (kept,) = [v for k, v, _ in pair.entries(pair.target) if k == "written-at-target"]
    root = reports_root(deployed)
    # ... a receipt planted in its report folder (digest recomputed), claiming that object
    # was retained until 2000
    unsigned = planted(deployed, "written-at-target", kept)
    put_receipt(deployed, root, unsigned, sealed_bytes(seal(unsigned)))
    # ... and one signed by another key, claiming to be the deployment's
    forged = planted(deployed, "written-at-target", kept)
    forged = forged.model_copy(update={"erasure_id": forged.erasure_id[:-6] + "fedcba"})
    raw = kms.sign(
        KeyId=theirs["Arn"],
        Message=digest_of(forged),
        MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_256",
    )["Signature"]
    signature = Signature(key_id=ours, algorithm="ECDSA_SHA_256", value=signature_value(raw))
    put_receipt(deployed, root, forged, sealed_bytes(seal(forged, signature)))

    # When a run that may delete follows them up
    result = deployed.run({"graceMinutes": 0, "maxPurgeFraction": 1.0})

    # Then the object stays
    assert result.status == "SUCCEEDED", result.cause
    assert kept in {v for k, v, _ in pair.entries(pair.target) if k == "written-at-target"}


def test_a_receipt_of_another_bucket_is_named_and_the_others_still_checked(
    deployed: Deployed,
) -> None:
    pair = deployed.pair
    erased_on(deployed)
    root = reports_root(deployed)
    foreign = planted(deployed, "x.txt", "v1", bucket="someone-elses-bucket")
    put_receipt(deployed, root, foreign, sealed_bytes(seal(foreign)))
    deployed.notifications()
    back = pair.put("subject.txt", "restored", bucket=pair.target)

    result = deployed.run({**RUN, "dryRun": True})

    assert result.status == "SUCCEEDED", result.cause
    (note,) = [m for m in deployed.notifications() if "came back" in m["Subject"]]
    assert f"s3://{pair.target}/subject.txt {back}" in note["Message"]
    assert "not followed up: its buckets and roots are not this deployment's" in note["Message"]


def test_only_the_deployment_keys_signature_lets_a_follow_up_release(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    ours = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    other = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    monkeypatch.setenv(RECEIPT_KEY_ENV, ours)
    deployed = deploy(runtime)
    deployed.pair.put_live()
    erased = deployed.run({"erase": {"keys": ["gone.txt"]}})
    assert erased.status == "SUCCEEDED", erased.cause
    uri = (erased.output or {})["erasure"]["receipt"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    sealed = read_sealed(
        deployed.pair.client.get_object(Bucket=bucket, Key=key)["Body"].read(), uri
    )

    assert signed_by_us(sealed, kms_verifier(kms, ours))
    assert not signed_by_us(sealed, kms_verifier(kms, other))
    assert not signed_by_us(sealed, None)


def test_near_the_time_limit_the_rest_is_deferred_to_the_next_run_and_named(
    deployed: Deployed,
) -> None:
    pair = deployed.pair
    erased_on(deployed)
    later = deployed.run({**RUN, "dryRun": True})
    run_id = (later.output or {})["summary"]["runId"]
    stored = pair.client.get_object(Bucket=REPORTS, Key=f"syncpurge-work/{run_id}/run.json")
    event = RunEvent(run=RunContext.model_validate(json.loads(stored["Body"].read())))
    sns = boto3.client("sns", region_name="us-east-1")
    stores = Stores(S3Store(pair.client), notifications=NotificationGateway(sns))
    deployed.notifications()

    found = recheck_step(event, stores, signer=None, should_stop=lambda: True)

    assert (found["receipts"], found["deferred"]) == (0, 1)
    (note,) = deployed.notifications()
    assert "were not followed up before the step's time limit" in note["Message"]
