"""The engine against moto S3 under faults: partial DeleteObjects errors, throttling, a key
that comes back between the diff and the delete (issue 2 acceptance)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from syncpurge.models import RunStatus
from tests.engine_runs import run_engine
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration

# Only leftovers in the target: allowed to purge them all, from a source with nothing in
# common (docs/design.md §5 "Unrelated source" has its own tests).
ALL = {"maxPurgeFraction": 1.0, "allowUnrelatedSource": True}


class PartialDeletes:
    """Wraps a client: DeleteObjects reports some keys as InternalError the first N times."""

    def __init__(self, client: Any, flaky: set[str], failures: int) -> None:
        self._client = client
        self.flaky = flaky
        self.failures = failures
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def delete_objects(self, **params: Any) -> Any:
        self.calls += 1
        objects = params["Delete"]["Objects"]
        failing = [o for o in objects if o["Key"] in self.flaky] if self.failures else []
        self.failures = max(0, self.failures - 1)
        sent = [o for o in objects if o not in failing]
        response: dict[str, Any] = {"Deleted": [], "Errors": []}
        if sent:  # S3 rejects an empty Delete
            response = dict(
                self._client.delete_objects(
                    **{**params, "Delete": {**params["Delete"], "Objects": sent}}
                )
            )
        response["Errors"] = [
            *response.get("Errors", []),
            *(
                {
                    "Key": o["Key"],
                    "VersionId": o["VersionId"],
                    "Code": "InternalError",
                    "Message": "We encountered an internal error. Please try again.",
                }
                for o in failing
            ),
        ]
        return response


def test_partial_delete_errors_are_retried_then_succeed(pair: BucketPair, tmp_path: Path) -> None:
    for key in ("a", "b", "c"):
        pair.put(key, "x", bucket=pair.target)
    flaky = PartialDeletes(pair.client, {"b"}, failures=2)

    result, lines = run_engine(pair, tmp_path, ALL, client=flaky)

    assert {line["key"]: line["outcome"] for line in lines} == dict.fromkeys("abc", "purged")
    assert flaky.calls == 3
    assert pair.all_keys() == set()
    assert result.summary.requests.delete == 3


def test_persistent_delete_errors_end_failed_with_the_error(
    pair: BucketPair, tmp_path: Path
) -> None:
    for key in ("a", "b"):
        pair.put(key, "x", bucket=pair.target)
    flaky = PartialDeletes(pair.client, {"b"}, failures=100)

    result, lines = run_engine(pair, tmp_path, ALL, client=flaky)

    by_key = {line["key"]: line for line in lines}
    assert by_key["a"]["outcome"] == "purged"
    assert by_key["b"]["outcome"] == "failed"
    assert "InternalError" in by_key["b"]["error"]
    assert result.summary.status is RunStatus.FAILED
    assert result.summary.totals.failed == 1
    assert pair.all_keys() == {"b"}


def test_throttling_is_answered_by_botocore_retries(pair: BucketPair, tmp_path: Path) -> None:
    pair.put("a", "x", bucket=pair.target)
    throttled = {"left": 2}

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield b"<Error><Code>SlowDown</Code><Message>Slow down</Message></Error>"

    def slow_down(request: Any, **_: Any) -> AWSResponse | None:
        if throttled["left"]:
            throttled["left"] -= 1
            return AWSResponse(request.url, 503, {}, Raw())
        return None

    pair.client.meta.events.register_first("before-send.s3.DeleteObjects", slow_down)
    try:
        result, lines = run_engine(pair, tmp_path, ALL)
    finally:
        pair.client.meta.events.unregister("before-send.s3.DeleteObjects", slow_down)

    assert throttled["left"] == 0
    assert [line["outcome"] for line in lines] == ["purged"]
    assert result.summary.requests.delete == 1  # one call; botocore retried it inside
    assert pair.all_keys() == set()


def test_a_vanished_key_that_reappears_before_the_delete_is_skipped(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given a vanished key, re-created in the source after the diff listed it
    pair.put("back", "x", bucket=pair.target)
    pair.put("gone", "x", bucket=pair.target)
    original_list = pair.client.list_object_versions
    state = {"recreated": False}

    def list_then_recreate(**params: Any) -> Any:
        response = original_list(**params)
        diff_listing = params.get("MaxKeys") != 1  # not preflight's one-key probe
        if params.get("Bucket") == pair.source and diff_listing and not state["recreated"]:
            state["recreated"] = True
            pair.put("back", "new")  # lands right after the diff's listing
        return response

    pair.client.list_object_versions = list_then_recreate
    try:
        _result, lines = run_engine(pair, tmp_path, ALL)
    finally:
        pair.client.list_object_versions = original_list

    by_key = {line["key"]: (line["outcome"], line["reason"]) for line in lines}
    assert by_key == {"back": ("skipped", "reappeared"), "gone": ("purged", by_key["gone"][1])}
    assert "back" in pair.all_keys()
