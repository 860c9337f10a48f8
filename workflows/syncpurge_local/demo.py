"""`syncpurge demo`: the seed's Case 2 story, told by the real state machine on moto."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
from rich.console import Console
from rich.table import Table

from syncpurge.cli.terminal import print_prose
from syncpurge.data.aws import ExecutionFollower
from syncpurge_local.runtime import REGION, ExecutionResult, LocalDeployment, LocalRuntime

SOURCE, TARGET, REPORTS = "demo-source", "demo-target", "demo-reports"
# Eight target entries, three to purge: the default 5% guard would (rightly) refuse, so the
# demo says how much it is willing to purge, as a user with a small bucket would.
REQUEST = {"maxPurgeFraction": 0.5}


def demo_pair(runtime: LocalRuntime) -> tuple[Any, str]:
    """The demo's versioned pair, its report bucket and a DataSync task: (S3 client, task)."""
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (SOURCE, TARGET):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.create_bucket(Bucket=REPORTS)
    return s3, runtime.create_task(SOURCE, TARGET, report_bucket=REPORTS)


def run_demo(report_dir: Path, console: Console) -> int:
    started = time.monotonic()
    with LocalRuntime() as runtime:
        s3, task = demo_pair(runtime)
        machine = runtime.deploy(LocalDeployment(SOURCE, TARGET, REPORTS, task, 1))
        console.rule("[bold]syncpurge demo[/bold]: the seed's Case 2, on an embedded moto")
        console.print(
            f"source [cyan]s3://{SOURCE}[/], target [cyan]s3://{TARGET}[/], "
            f"DataSync task {task.rsplit('/', 1)[-1]} (REMOVE, CHANGED)"
        )

        step(console, "1. upload a.txt, a.txt.bak, b.txt, c.txt (v1) and sync")
        for key, body in (
            ("a.txt", "hello"),
            ("a.txt.bak", "backup"),
            ("b.txt", "bee"),
            ("c.txt", "c version 1"),
        ):
            s3.put_object(Bucket=SOURCE, Key=key, Body=body.encode())
        sync(runtime, task)

        step(console, "2. c.txt gets a v2; a.txt and b.txt are deleted (delete markers); sync")
        s3.put_object(Bucket=SOURCE, Key="c.txt", Body=b"c version 2")
        s3.delete_object(Bucket=SOURCE, Key="a.txt")
        s3.delete_object(Bucket=SOURCE, Key="b.txt")
        sync(runtime, task)

        step(console, "3. permanent deletes in the source: a.txt's marker and version, c.txt v1")
        for entry in versions(s3, SOURCE):
            if entry["Key"] == "a.txt" or (entry["Key"] == "c.txt" and not entry["IsLatest"]):
                s3.delete_object(Bucket=SOURCE, Key=entry["Key"], VersionId=entry["VersionId"])
        console.print("DataSync never carries these to the target. b.txt was only soft-deleted:")
        console.print("its marker and version are mirrored and must stay.")
        console.print(version_table(f"target s3://{TARGET} before", versions(s3, TARGET)))

        step(console, f"4. run the state machine with {json.dumps(REQUEST)}")
        first = follow(runtime, machine, console)
        console.print(version_table(f"target s3://{TARGET} after", versions(s3, TARGET)))
        show_report(console, first)

        step(console, "5. run it again: nothing is left to plan")
        second = follow(runtime, machine, console)
        show_report(console, second)

        saved = save_reports(s3, report_dir)
        console.rule()
        console.print(
            f"reports ({len(saved)} files) saved under [cyan]{report_dir}[/] in the "
            "DataSync report layout: <Subdirectory>/Purge-Reports/<task-id>/<run-id>/"
        )
        console.print(f"done in {time.monotonic() - started:.1f}s")
        ok = (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
        planned_again = (second.output or {}).get("summary", {}).get("totals", {}).get("planned")
        return 0 if ok and planned_again == 0 else 1


def step(console: Console, text: str) -> None:
    console.print()
    console.print(f"[bold yellow]{text}[/]")


def sync(runtime: LocalRuntime, task: str) -> None:
    datasync = boto3.client("datasync", region_name=REGION)
    execution = datasync.start_task_execution(TaskArn=task)["TaskExecutionArn"]
    while (
        status := datasync.describe_task_execution(TaskExecutionArn=execution)["Status"]
    ) not in ("SUCCESS", "ERROR"):
        time.sleep(0.05)
    if status != "SUCCESS":
        raise RuntimeError(f"the demo's DataSync execution ended {status}")


def versions(s3: Any, bucket: str) -> list[dict[str, Any]]:
    listed = s3.list_object_versions(Bucket=bucket)
    entries = [{**v, "Marker": False} for v in listed.get("Versions", [])]
    entries += [{**m, "Marker": True} for m in listed.get("DeleteMarkers", [])]
    return sorted(entries, key=lambda e: (e["Key"], not e["IsLatest"], e["LastModified"]))


def version_table(title: str, entries: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in ("key", "version id", "kind", "current", "size"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e["Key"],
            e["VersionId"][:12] + "…",
            "delete marker" if e["Marker"] else "version",
            "yes" if e["IsLatest"] else "",
            str(e.get("Size", "")),
        )
    return table


def follow(runtime: LocalRuntime, machine: str, console: Console) -> ExecutionResult:
    arn = runtime.start(machine, REQUEST)
    follower = ExecutionFollower(boto3.client("stepfunctions", region_name=REGION), arn)
    shown: list[str] = []
    with console.status("starting") as status:
        while True:
            for event in follower.new_events():
                if event.state and (not shown or shown[-1] != event.state):
                    shown.append(event.state)
                    status.update(f"state: {event.state}")
            if follower.describe()["status"] != "RUNNING":
                break
            time.sleep(0.1)
    console.print("states: " + " → ".join(shown))
    return runtime.wait(arn)


def show_report(console: Console, result: ExecutionResult) -> None:
    output = result.output or {}
    summary = output.get("summary", {})
    totals = summary.get("totals", {})
    console.print(
        f"execution [bold]{result.status}[/], report [bold]{summary.get('status')}[/]: "
        f"planned {totals.get('planned')}, purged {totals.get('purged')}, "
        f"skipped {totals.get('skipped')}, failed {totals.get('failed')}, "
        f"{totals.get('bytesReclaimed')} bytes reclaimed"
    )
    if result.status != "SUCCEEDED":
        console.print(f"[red]{result.error}: {result.cause}[/]")
    if output.get("report"):
        # the path is one token to copy: on a line of its own if need be, never folded
        print_prose(console, f"report: {output['report']}")


def save_reports(s3: Any, folder: Path) -> list[Path]:
    saved = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=REPORTS):
        for item in page.get("Contents", []):
            if "/Purge-Reports/" not in f"/{item['Key']}":
                continue
            path = folder / item["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(s3.get_object(Bucket=REPORTS, Key=item["Key"])["Body"].read())
            saved.append(path)
    return saved
