"""`syncpurge demo --events`: the event path's story on moto (docs/design.md §13)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
from rich.console import Console

from syncpurge_local.demo import (
    REPORTS,
    SOURCE,
    TARGET,
    demo_pair,
    save_reports,
    step,
    sync,
    version_table,
    versions,
)
from syncpurge_local.event_path import deliver, source_events
from syncpurge_local.runtime import REGION, LocalLambdaContext, LocalRuntime


def run_event_demo(report_dir: Path, console: Console) -> int:
    started = time.monotonic()
    with LocalRuntime() as runtime:
        # Imported inside the runtime: its Logger reads the runtime's log level.
        from syncpurge_handlers import events

        s3, task = demo_pair(runtime)
        queue = boto3.client("sqs", region_name=REGION).create_queue(QueueName="events")
        console.rule("[bold]syncpurge demo --events[/bold]: the event path, on an embedded moto")

        step(console, "1. contract.pdf is written twice, each version synced by DataSync")
        first = s3.put_object(Bucket=SOURCE, Key="contract.pdf", Body=b"signed v1")["VersionId"]
        sync(runtime, task)
        s3.put_object(Bucket=SOURCE, Key="contract.pdf", Body=b"signed v2")
        sync(runtime, task)
        console.print(version_table(f"target s3://{TARGET}", versions(s3, TARGET)))

        step(console, "2. a legal erasure: v1 is permanently deleted at the source")
        with source_events(SOURCE, queue["QueueUrl"]) as sent:
            s3.delete_object(Bucket=SOURCE, Key="contract.pdf", VersionId=first)
        detail = sent[0]["detail"]
        console.print(
            f"S3 sends EventBridge [bold]{sent[0]['detail-type']}[/] "
            f"({detail['deletion-type']}) for {json.dumps(detail['object']['key'])} "
            f"version {detail['object']['version-id'][:12]}…; the rule queues it"
        )

        step(
            console, "3. the event path takes the delivery (hold 0 here; a deployment holds 60 min)"
        )
        config = {
            "sourceBucket": SOURCE,
            "targetBucket": TARGET,
            "reportBucket": REPORTS,
            "taskArn": task,
            "holdMinutes": 0,
        }
        deliver(queue["QueueUrl"], config, events.handler, LocalLambdaContext("events", 900))
        after = versions(s3, TARGET)
        console.print(version_table(f"target s3://{TARGET} after", after))
        saved = save_reports(s3, report_dir)
        lines = [
            json.loads(line)
            for path in saved
            if "/entries/" in str(path)
            for line in path.read_text().splitlines()
        ]
        for line in lines:
            console.print(
                f"{line['key']} {line['versionId'][:12]}… [bold]{line['outcome']}[/] "
                f"({line['rule']}, proof: {line['proof']})"
            )
        console.rule()
        console.print(
            f"report files under [cyan]{report_dir}[/]; done in {time.monotonic() - started:.1f}s"
        )
        kept = [e for e in after if e["Key"] == "contract.pdf"]
        purged = [line for line in lines if line["outcome"] == "purged"]
        return 0 if len(kept) == 1 and len(purged) == 1 else 1
