"""The real definition executed on moto by the local runtime, with a DataSync task."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from syncpurge_local.runtime import ExecutionResult, LocalDeployment, LocalRuntime
from tests.helpers import BucketPair, make_versioned_bucket

REPORTS = "syncpurge-reports"


@dataclass
class Deployed:
    runtime: LocalRuntime
    pair: BucketPair
    task_arn: str
    state_machine_arn: str

    def run(self, request: Any, **kwargs: Any) -> ExecutionResult:
        return self.runtime.run(self.state_machine_arn, request, **kwargs)

    def report(self, result: ExecutionResult) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """summary.json and every entries line of the run's report."""
        s3 = self.pair.client
        name = result.arn.rsplit(":", 1)[-1]
        bucket = (result.output or {}).get("report", f"s3://{REPORTS}/").split("/")[2]
        keys = [
            o["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])
            if "/Purge-Reports/" in f"/{o['Key']}" and f"/{name}/" in o["Key"]
        ]
        summary_key = next(k for k in keys if k.endswith("summary.json"))
        summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
        lines = [
            json.loads(line)
            for key in sorted(k for k in keys if "/entries-" in k)
            for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
        ]
        return summary, lines


@pytest.fixture
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as local:
        yield local


def deploy(runtime: LocalRuntime, *, preserve: str = "REMOVE", **task: Any) -> Deployed:
    s3 = boto3.client("s3", region_name="us-east-1")
    pair = BucketPair(s3, "wf-source", "wf-target")
    make_versioned_bucket(s3, pair.source)
    make_versioned_bucket(s3, pair.target)
    s3.create_bucket(Bucket=REPORTS)
    task.setdefault("report_bucket", REPORTS)
    task = runtime.create_task(pair.source, pair.target, preserve_deleted_files=preserve, **task)
    arn = runtime.deploy(LocalDeployment(pair.source, pair.target, REPORTS, task))
    return Deployed(runtime, pair, task, arn)


@pytest.fixture
def deployed(runtime: LocalRuntime) -> Deployed:
    return deploy(runtime)
