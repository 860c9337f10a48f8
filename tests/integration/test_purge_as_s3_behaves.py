"""Issue 8 defects 1-7 and 8(a)/(b): the purge as S3 really answers, on moto.

moto answers neither MalformedXML nor NoSuchVersion, accepts BypassGovernanceRetention on
any bucket and never reports MFA Delete; `Faulty` wraps a moto client to answer as the S3
API reference says S3 does, and records what was sent.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from syncpurge.cli import main
from syncpurge.data.files import FolderStore
from syncpurge.data.s3shapes import XML_INVALID, ListingPage
from syncpurge.data.s3store import S3Store
from syncpurge.models import Entry, Outcome, PlannedEntry, Proof, Rule
from syncpurge.phases.deletes import OutcomeRecord, PurgeSettings
from syncpurge.phases.purge import purge_plan
from syncpurge.phases.report import read_entries_lines
from tests.engine_runs import run_engine
from tests.helpers import BucketPair, make_versioned_bucket, reconcile_flags

pytestmark = pytest.mark.integration

# the module (the package names its step function `report` too)
report_step = importlib.import_module("syncpurge.workflow.report")

ALL = {"maxPurgeFraction": 1.0}


def client_error(status: int, code: str, message: str, operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        operation,
    )


class Faulty:
    """A moto client that answers some calls as real S3 does; records DeleteObjects calls."""

    def __init__(self, client: Any, **faults: Any) -> None:
        self._client = client
        self.faults = faults
        self.delete_calls: list[list[tuple[str, str]]] = []
        self.single_deletes: list[tuple[str, str]] = []
        self.source_lists = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def delete_objects(self, **params: Any) -> Any:
        objects = params["Delete"]["Objects"]
        self.delete_calls.append([(o["Key"], o["VersionId"]) for o in objects])
        if any(XML_INVALID.search(o["Key"]) for o in objects):
            # S3 API reference, DeleteObjects / Error responses: a body that is not
            # well-formed XML (XML 1.0 can't carry U+0001) is rejected whole: MalformedXML.
            raise client_error(
                400, "MalformedXML", "The XML you provided was not well-formed", "DeleteObjects"
            )
        if params.get("BypassGovernanceRetention") and self.faults.get("no_object_lock"):
            # S3 rejects the bypass header on a bucket without Object Lock.
            raise client_error(
                400,
                "InvalidArgument",
                "x-amz-bypass-governance-retention is only applicable to Object Lock "
                "enabled buckets.",
                "DeleteObjects",
            )
        absent = self.faults.get("absent", set())
        denied = self.faults.get("denied", set())
        errors = [
            {
                "Key": k,
                "VersionId": v,
                "Code": "NoSuchVersion",
                "Message": "The specified version does not exist.",
            }
            for k, v in self.delete_calls[-1]
            if k in absent
        ] + [
            {"Key": k, "VersionId": v, "Code": "AccessDenied", "Message": "Access Denied"}
            for k, v in self.delete_calls[-1]
            if k in denied
        ]
        failing = {(e["Key"], e["VersionId"]) for e in errors}
        sent = [o for o in objects if (o["Key"], o["VersionId"]) not in failing]
        response: dict[str, Any] = {"Deleted": [], "Errors": errors}
        if sent:
            answer = self._client.delete_objects(
                **{**params, "Delete": {**params["Delete"], "Objects": sent}}
            )
            response["Deleted"] = answer.get("Deleted", [])
            response["Errors"] += answer.get("Errors", [])
        return response

    def delete_object(self, **params: Any) -> Any:
        self.single_deletes.append((params["Key"], params["VersionId"]))
        return self._client.delete_object(**params)

    def get_bucket_versioning(self, **params: Any) -> Any:
        answer = dict(self._client.get_bucket_versioning(**params))
        if params["Bucket"] in self.faults.get("mfa_delete", ()):
            answer["MFADelete"] = "Enabled"
        return answer

    def list_object_versions(self, **params: Any) -> Any:
        limit = self.faults.get("source_lists_before_failing")
        # Preflight's one-key probe (MaxKeys=1) is not one of the listings a fault counts.
        probe = params.get("MaxKeys") == 1
        if params["Bucket"] == self.faults.get("source") and limit is not None and not probe:
            self.source_lists += 1
            if self.source_lists > limit:
                raise client_error(403, "AccessDenied", "Access Denied", "ListObjectVersions")
        return self._client.list_object_versions(**params)


def visible(pair: BucketPair) -> set[str]:
    """Keys a reader of the target sees (current entry is a version)."""
    listed = pair.client.list_object_versions(Bucket=pair.target)
    return {v["Key"] for v in listed.get("Versions", []) if v["IsLatest"]}


def test_a_retained_version_keeps_its_delete_marker(s3: Any, tmp_path: Path) -> None:
    # Defect 1: the locked version stayed, its marker went: the object was readable again.
    pair = BucketPair(s3, "lock-src", "lock-dst")
    make_versioned_bucket(s3, pair.source)
    make_versioned_bucket(s3, pair.target, object_lock=True)
    pair.put_live()
    s3.put_object(Bucket=pair.target, Key="gone", Body=b"1", ObjectLockLegalHoldStatus="ON")
    pair.soft_delete("gone", bucket=pair.target)  # DataSync's REMOVE
    assert visible(pair) == {"live"}

    result, lines = run_engine(pair, tmp_path, ALL)

    outcomes = {(line["isDeleteMarker"], line["outcome"], line["reason"]) for line in lines}
    assert outcomes == {(False, "retained", "object lock"), (True, "skipped", "protects-current")}
    assert visible(pair) == {"live"}
    assert result.summary.totals.retained == 1


def test_a_failed_version_keeps_its_marker_and_the_marker_goes_last(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Defect 2: the marker went in one batch and its version failed in another.
    pair.put_live()
    for key in ("fails", "works"):
        pair.put(key, "1", bucket=pair.target)
        pair.soft_delete(key, bucket=pair.target)
    faulty = Faulty(pair.client, denied={"fails"})

    _, lines = run_engine(pair, tmp_path, ALL, client=faulty)

    by = {(line["key"], line["isDeleteMarker"]): line["outcome"] for line in lines}
    assert by == {
        ("fails", False): "failed",
        ("fails", True): "skipped",
        ("works", False): "purged",
        ("works", True): "purged",
    }
    assert visible(pair) == {"live"}
    # The current entry (the marker) went only in a request after its version's
    first_marker_call = next(
        i
        for i, call in enumerate(faulty.delete_calls)
        if any(k == "works" for k, _ in call) and len(call) == 1
    )
    assert first_marker_call > 0


def test_a_key_xml_cannot_carry_fails_nothing_else(pair: BucketPair) -> None:
    # Defect 3: one U+0001 key made S3 reject the whole DeleteObjects: the others failed.
    # (moto can store such a key but not list it, so the plan is built here directly.)
    bad = "bad\x01key"
    plan = []
    for key in ("a", "b", bad, "c"):
        version = pair.client.put_object(Bucket=pair.target, Key=key, Body=b"1")["VersionId"]
        entry = Entry(key, version, True, dt.datetime.now(dt.UTC), False, 1, '"x"')
        plan.append(PlannedEntry(entry, Rule.VANISHED_KEY, "gone", proof=Proof.VANISHED))
    faulty = Faulty(pair.client)
    outcomes: list[OutcomeRecord] = []

    class NothingReappears:
        def verify_page(
            self, bucket: str, prefix: str, after: str | None, version_marker: str = ""
        ) -> ListingPage:
            return ListingPage([], [], False)

    purge_plan(
        plan,
        source=NothingReappears(),  # type: ignore[arg-type]
        target=S3Store(faulty),  # type: ignore[arg-type]
        settings=PurgeSettings(target_bucket=pair.target, source_bucket=pair.source),
        on_outcome=outcomes.append,
    )

    assert {o.planned.entry.key: o.outcome for o in outcomes} == dict.fromkeys(
        ("a", "b", bad, "c"), Outcome.PURGED
    )
    assert [key for key, _ in faulty.single_deletes] == [bad]
    assert faulty.delete_calls[0] == [
        (p.entry.key, p.entry.version_id) for p in plan if p.entry.key != bad
    ]


def test_bypass_is_sent_only_to_targets_with_object_lock(pair: BucketPair, tmp_path: Path) -> None:
    # Defect 4: S3 answered 400 InvalidArgument to every batch; the 400 was retried.
    pair.put_live()
    pair.put("gone", "1", bucket=pair.target)
    faulty = Faulty(pair.client, no_object_lock=True)

    result, lines = run_engine(pair, tmp_path, {**ALL, "bypassGovernance": True}, client=faulty)

    assert [line["outcome"] for line in lines] == ["purged"]
    assert len(faulty.delete_calls) == 1
    assert result.summary.totals.failed == 0


def test_a_whole_request_4xx_is_not_retried(pair: BucketPair, tmp_path: Path) -> None:
    pair.put_live()
    pair.put("gone", "1", bucket=pair.target)

    class Rejecting(Faulty):
        def delete_objects(self, **params: Any) -> Any:
            self.delete_calls.append([])
            raise client_error(400, "InvalidArgument", "bad header", "DeleteObjects")

    faulty = Rejecting(pair.client)

    _, lines = run_engine(pair, tmp_path, ALL, client=faulty)

    assert [(line["outcome"], line["reason"]) for line in lines] == [("failed", "InvalidArgument")]
    assert len(faulty.delete_calls) == 1
    assert "gone" in pair.all_keys()


def test_an_entry_already_gone_is_skipped_already_absent(pair: BucketPair, tmp_path: Path) -> None:
    # Defect 5: NoSuchVersion from an S3-compatible store ended `failed`.
    pair.put_live()
    pair.put("gone", "1", bucket=pair.target)
    pair.soft_delete("gone", bucket=pair.target)
    faulty = Faulty(pair.client, absent={"gone"})

    result, lines = run_engine(pair, tmp_path, ALL, client=faulty)

    assert {(line["outcome"], line["reason"]) for line in lines} == {("skipped", "already-absent")}
    assert result.summary.totals.failed == 0


def test_access_denied_on_a_locked_bucket_is_failed_unless_the_lock_denied_it(
    s3: Any, tmp_path: Path
) -> None:
    # Defect 6: an IAM or bucket-policy AccessDenied was reported `retained`.
    pair = BucketPair(s3, "deny-src", "deny-dst")
    make_versioned_bucket(s3, pair.source)
    make_versioned_bucket(s3, pair.target, object_lock=True)
    pair.put_live()
    pair.put("gone", "1", bucket=pair.target)
    faulty = Faulty(s3, denied={"gone"})

    result, lines = run_engine(pair, tmp_path, ALL, client=faulty)

    assert [(line["outcome"], line["error"]) for line in lines] == [
        ("failed", "AccessDenied: Access Denied")
    ]
    assert result.summary.totals.retained == 0


def test_mfa_delete_on_the_target_is_refused_in_preflight(pair: BucketPair, tmp_path: Path) -> None:
    # Defect 7: every run failed late, after listing both buckets.
    pair.put_live()
    pair.put("gone", "1", bucket=pair.target)
    faulty = Faulty(pair.client, mfa_delete={pair.target})

    result, lines = run_engine(pair, tmp_path, ALL, client=faulty)

    assert result.refusal is not None
    assert "MFA Delete" in result.refusal
    assert lines == []
    assert result.summary.requests.list == 0


def test_outcomes_of_batches_already_deleted_survive_a_later_failure(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Defect 8(a): the verify LIST ran out of retries; 1,000 entries were deleted and the
    # report said purged 0. Invariant 8: every delete sent is in the report and journal.
    pair.put_live()
    for i in range(1500):
        pair.put(f"gone/{i:05d}", "1", bucket=pair.target)
    faulty = Faulty(pair.client, source=pair.source, source_lists_before_failing=1)

    result, lines = run_engine(pair, tmp_path, ALL, source_client=faulty)

    purged = [line for line in lines if line["outcome"] == "purged"]
    assert result.summary.status.value == "FAILED"
    assert len(purged) == 1000
    assert result.summary.totals.purged == 1000
    (journal,) = (tmp_path / result.summary.run_id / "journal").iterdir()
    assert len(journal.read_text().splitlines()) == 1000
    assert len(pair.all_keys()) == 1 + 500


def test_an_unwritable_report_destination_is_found_before_any_delete(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Defect 8(b): the destination was first written after deleting.
    pair.put_live()
    pair.put("gone", "1", bucket=pair.target)
    blocked = tmp_path / "report"
    blocked.write_text("a file where the report folder should be")

    result, _ = run_engine(pair, blocked / "run", ALL)

    assert result.summary.status.value == "FAILED"
    assert "could not be written" in (result.summary.error or "")
    assert "gone" in pair.all_keys()
    assert result.summary.requests.delete == 0


def test_a_report_that_cant_be_written_after_the_purge_still_counts_what_was_purged(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    # Found by review: the summary printed when summary.json could not be written said
    # nothing was purged, though the purge had deleted every leftover
    pair.put_live()
    for i in range(3):
        pair.put(f"gone/{i}", "x", bucket=pair.target)

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_step, "write_summary", disk_full)
    flags = reconcile_flags(pair, "--report", str(tmp_path), "--max-purge-fraction", "1")
    code = main([*flags, "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert pair.all_keys() == {"live"}
    assert summary["status"] == "FAILED"
    assert "the report could not be written" in summary["error"]
    assert (summary["totals"]["planned"], summary["totals"]["purged"]) == (3, 3)


def test_a_delete_whose_outcome_was_never_written_is_reported_from_its_journal(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    # Found by review: a Purge slice that sent its batch and then could not write its
    # outcomes (a full disk here; a Lambda killed at its time limit on a deployment) left
    # the deletes in the journal and none in the report (invariant 8)
    pair.put_live()
    for i in range(3):
        pair.put(f"gone/{i}", "x", bucket=pair.target)
    real_put = FolderStore.put_bytes

    def no_room_for_outcomes(self: FolderStore, bucket: str, key: str, *rest: Any) -> None:
        if "/outcomes/" in key:
            raise OSError(28, "No space left on device")
        real_put(self, bucket, key, *rest)

    monkeypatch.setattr(FolderStore, "put_bytes", no_room_for_outcomes)
    flags = reconcile_flags(pair, "--report", str(tmp_path), "--max-purge-fraction", "1")
    code = main([*flags, "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert pair.all_keys() == {"live"}  # S3 deleted all three
    lines = list(read_entries_lines(tmp_path / summary["runId"]))
    assert sorted(line["key"] for line in lines) == [f"gone/{i}" for i in range(3)]
    assert {(line["outcome"], line["reason"]) for line in lines} == {("failed", "no-answer")}
    assert all("no outcome was recorded" in line["error"] for line in lines)
    assert summary["totals"]["failed"] == 3
