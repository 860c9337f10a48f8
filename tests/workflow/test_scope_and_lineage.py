"""Issue 7 on the real definition: the task's scope (defect 2) and proof by lineage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.s3 import models as moto_s3

from syncpurge.cli import EXIT_OK, main
from syncpurge_local.runtime import LocalRuntime
from tests.helpers import next_second
from tests.workflow.conftest import REPORTS, Deployed, deploy

pytestmark = pytest.mark.workflow

ALL = {"maxPurgeFraction": 1.0}


def keys(deployed: Deployed) -> set[str]:
    return deployed.pair.all_keys(deployed.pair.target)


@pytest.mark.parametrize("target_subdirectory", ["data", "backup/data"])
def test_a_task_s_subdirectories_are_the_scope(
    runtime: LocalRuntime, target_subdirectory: str
) -> None:
    # Defect 2: a whole-bucket run purged everything outside the task's Subdirectory.
    deployed = deploy(
        runtime,
        source_subdirectory="data",
        target_subdirectory=target_subdirectory,
        report_bucket="wf-target",
        report_subdirectory="datasync-reports",
    )
    pair, root = deployed.pair, f"{target_subdirectory}/"
    pair.put("data/keep.txt", "keep")
    pair.put("data/gone.txt", "gone")
    pair.put("elsewhere/theirs.txt", "not ours", bucket=pair.target)
    pair.put("elsewhere/mirror.txt", "x")  # outside the task: never synced, never compared
    assert deployed.run(ALL).status == "SUCCEEDED"
    assert {root + "keep.txt", root + "gone.txt"} <= keys(deployed)
    pair.purge_source_key("data/gone.txt")

    result = deployed.run(ALL)

    assert result.status == "SUCCEEDED", result.cause
    summary, lines = deployed.report(result)
    assert {line["key"] for line in lines if line["outcome"] == "purged"} == {root + "gone.txt"}
    left = keys(deployed)
    assert root + "keep.txt" in left
    assert "elsewhere/theirs.txt" in left
    assert any(k.startswith("datasync-reports/Purge-Reports/") for k in left)
    assert any(k.startswith("datasync-reports/Detailed-Reports/") for k in left)
    assert summary["scope"]["targetRoot"] == root
    # the CLI's run lock is never in any door's scope, nor the task's report folder
    assert summary["scope"]["excludedTargetPrefixes"] == [".syncpurge/", "datasync-reports/"]
    again = deployed.run(ALL)
    assert deployed.report(again)[0]["totals"]["planned"] == 0


def test_task_includes_and_excludes_bound_the_purge(runtime: LocalRuntime) -> None:
    deployed = deploy(runtime, includes="/logs", excludes="/logs/keep")
    pair = deployed.pair
    for key in ("logs/a", "logs/keep/b", "img/c"):
        pair.put(key, "x", bucket=pair.target)
    for bucket in (pair.source, pair.target):
        pair.put("logs/live", "x", bucket=bucket)

    result = deployed.run({**ALL, "skipSync": True})

    assert result.status == "SUCCEEDED", result.cause
    assert keys(deployed) >= {"logs/keep/b", "img/c"}
    assert "logs/a" not in keys(deployed)
    refused = deployed.run({**ALL, "prefixes": ["img/"]})
    assert refused.error == "InvalidInput"
    assert "outside the DataSync task's Includes" in (refused.cause or "")


def multipart_story(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, *, checksums: bool = True, **task: Any
) -> Deployed:
    """Large objects DataSync copied by multipart upload; the source then permanently
    deletes their noncurrent versions. Sizes are equal, so only a proof can tell them."""
    monkeypatch.setattr(moto_s3, "S3_UPLOAD_PART_MIN_SIZE", 16)
    runtime.datasync.multipart_threshold = 64
    deployed = deploy(runtime, **task)
    pair = deployed.pair
    for generation in ("a", "b"):
        for i in range(3):
            pair.client.put_object(
                Bucket=pair.source,
                Key=f"big/{i}",
                Body=(generation * 200).encode(),
                **({"ChecksumAlgorithm": "CRC64NVME"} if checksums else {}),
            )
        assert deployed.run({**ALL, "dryRun": True}).status == "SUCCEEDED"
    for i in range(3):
        for key, _version_id, _ in pair.entries(pair.source, prefix=f"big/{i}"):
            versions = pair.client.list_object_versions(Bucket=pair.source, Prefix=key)
            old = [v for v in versions["Versions"] if not v["IsLatest"]]
            for v in old:
                pair.delete_version(key, v["VersionId"])
            break
    listed = pair.client.list_object_versions(Bucket=pair.target, Prefix="big/")["Versions"]
    assert {v["ETag"][-3:] for v in listed if v["Key"] != "big/"} == {'-4"'}
    return deployed


def test_multipart_copies_are_purged_by_lineage(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = multipart_story(runtime, monkeypatch)

    result = deployed.run(ALL)

    summary, _ = deployed.report(result)
    assert result.status == "SUCCEEDED", result.cause
    assert summary["byProof"] == {"lineage": 3}
    assert summary["totals"]["skipped"] == 0
    assert summary["requests"]["head"] == 0


def test_without_reports_full_object_checksums_prove_it(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = multipart_story(runtime, monkeypatch, report_bucket=None)

    result = deployed.run(ALL)

    summary, _ = deployed.report(result)
    assert result.status == "SUCCEEDED", result.cause
    assert summary["byProof"] == {"checksum": 3}
    assert summary["totals"]["skipped"] == 0


def test_with_neither_they_are_kept_as_unverifiable(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployed = multipart_story(runtime, monkeypatch, checksums=False, report_bucket=None)
    before = deployed.pair.entries()

    result = deployed.run(ALL)

    summary, lines = deployed.report(result)
    assert result.status == "SUCCEEDED", result.cause
    assert summary["totals"]["purged"] == 0
    assert {(line["outcome"], line["reason"]) for line in lines} == {("skipped", "unverifiable")}
    assert len(lines) == 3
    assert deployed.pair.entries() == before


def test_the_cli_takes_scope_report_and_lineage_from_task_arn(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed = multipart_story(runtime, monkeypatch)

    code = main(
        [
            "reconcile",
            "--task-arn",
            deployed.task_arn,
            "--region",
            "us-east-1",
            "--max-purge-fraction",
            "1",
            "--json",
        ]
    )

    summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert summary["byProof"] == {"lineage": 3}
    assert (summary["sourceBucket"], summary["targetBucket"]) == ("wf-source", "wf-target")
    task_id = deployed.task_arn.rsplit("/", 1)[-1]
    written = deployed.pair.all_keys(REPORTS)
    assert f"datasync-reports/Purge-Reports/{task_id}/{summary['runId']}/summary.json" in written


def test_lineage_keeps_the_only_copy_of_bytes_the_source_still_holds(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 17, defect 1, through the state machine and the stand-in's task reports.
    # Given doc = A (S1) copied by multipart upload (V1); A written again (S2) and then B
    # (S3) before the next sync, so S2 is never copied; then S1 is permanently deleted
    monkeypatch.setattr(moto_s3, "S3_UPLOAD_PART_MIN_SIZE", 16)
    runtime.datasync.multipart_threshold = 64
    deployed = deploy(runtime)
    pair = deployed.pair
    s1 = pair.put("doc", "a" * 200)
    assert deployed.run({**ALL, "dryRun": True}).status == "SUCCEEDED"
    (v1,) = [vid for _, vid, _ in pair.entries(pair.target, prefix="doc")]
    # S1 and S2 in one second would be one origin to V1's task-report record (size, ETag and
    # LastModified to the second): V1 would be S2's copy, kept silently (CI saw this once)
    next_second()
    pair.put("doc", "a" * 200)
    pair.put("doc", "b" * 200)
    pair.delete_version("doc", s1)

    # When the next run syncs B and diffs
    result = deployed.run(ALL)

    # Then V1, the target's only copy of A, stays: lineage says its source version is
    # gone, but S2 may hold the same bytes and multipart ETags can't tell
    summary, lines = deployed.report(result)
    assert result.status == "SUCCEEDED", result.cause
    assert summary["totals"]["purged"] == 0
    assert [(line["versionId"], line["reason"]) for line in lines] == [(v1, "unverifiable")]
    assert v1 in {vid for _, vid, _ in pair.entries(pair.target, prefix="doc")}


def test_a_file_planted_in_the_task_s_report_folder_is_not_lineage(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    # Defect 11: whoever may write `*Purge-Reports/*` in the report bucket can write under
    # the task's Detailed-Reports folder too; what it plants there must prove nothing.
    deployed = deploy(runtime)
    pair = deployed.pair
    # Given a version written at the target (SSE-KMS: its ETag can't be compared) under a
    # synced copy of the same size, which only a task-report record could prove a copy
    seeded = pair.client.put_object(
        Bucket=pair.target, Key="doc", Body=b"b" * 200, ServerSideEncryption="aws:kms"
    )["VersionId"]
    pair.put("doc", "a" * 200)
    assert deployed.run({**ALL, "dryRun": True}).status == "SUCCEEDED"
    # and a "transferred report" planted where DataSync never writes one, saying that version
    # is the copy of a source version that is gone
    task_id = deployed.task_arn.rsplit("/", 1)[-1]
    record = {
        "RelativePath": "doc",
        "SourceMetadata": {
            "Type": "Object",
            "ContentSize": 200,
            "LastModified": "2020-01-01T00:00:00Z",
            "SystemMetadata": {"ETag": '"gone"'},
        },
        "DstS3VersionId": seeded,
        "TransferStatus": "SUCCESS",
    }
    pair.client.put_object(
        Bucket=REPORTS,
        Key=f"datasync-reports/Detailed-Reports/{task_id}/x/Purge-Reports/evil-files-transferred.json",
        Body=json.dumps({"Transferred": [record]}).encode(),
    )

    # When the state machine and the CLI plan
    result = deployed.run({**ALL, "dryRun": True})
    code = main(
        [
            "reconcile",
            "--task-arn",
            deployed.task_arn,
            "--region",
            "us-east-1",
            "--max-purge-fraction",
            "1",
            "--dry-run",
            "--json",
        ]
    )

    # Then the version stays unverifiable, as without the planted file, and both say why
    summary, lines = deployed.report(result)
    assert [(line["versionId"], line["outcome"], line["reason"]) for line in lines] == [
        (seeded, "skipped", "unverifiable")
    ]
    cli_summary = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert cli_summary["totals"]["planned"] == 0
    for advisories in (summary["advisories"], cli_summary["advisories"]):
        assert any("1 file(s) in the DataSync task's Detailed-Reports" in a for a in advisories)
