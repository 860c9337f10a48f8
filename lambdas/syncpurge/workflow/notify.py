"""The notification every run ends with (docs/design.md §6): its figures, where its report is,
and, for a plan awaiting approval, how to apply it."""

from __future__ import annotations

import json
from typing import Any

from syncpurge.models import RunStatus
from syncpurge.summary import Summary
from syncpurge.workflow.context import RunConfig, Stores


def notification(summary: Summary, report: str, config: RunConfig) -> tuple[str, str]:
    """(subject, message) for a finished run."""
    t = summary.totals
    subject = f"syncpurge {summary.status.value}: s3://{summary.target_bucket} ({summary.run_id})"
    lines = [
        f"syncpurge run {summary.run_id}: {summary.status.value}",
        f"source s3://{summary.source_bucket} -> target s3://{summary.target_bucket} "
        f"({summary.mode.value}{', dry run' if summary.dry_run else ''})",
        f"planned {t.planned:,}, purged {t.purged:,}, retained {t.retained:,}, "
        f"skipped {t.skipped:,}, failed {t.failed:,}, bytes reclaimed {t.bytes_reclaimed:,}",
    ]
    if summary.error:
        lines.append(f"error: {summary.error}")
    lines.append(f"report: {report}")
    if config.require_approval and summary.status is RunStatus.DRY_RUN and t.planned:
        apply = json.dumps({"applyPlan": summary.run_id})
        lines += [
            "",
            "This deployment requires approval: the run only planned. Review the report, then "
            "purge exactly this plan (each entry is checked again first):",
            f"  console: start an execution of the state machine with the input {apply}",
            f"  CLI:     syncpurge start --state-machine-arn {config.state_machine_arn} "
            f"--apply-plan {summary.run_id}",
        ]
    return subject, "\n".join(lines) + "\n"


def notify(stores: Stores, config: RunConfig, summary: Summary, report: str) -> bool:
    """Publish the run's notification, if the deployment has a topic; True if sent."""
    if not config.notification_topic_arn or stores.notifications is None:
        return False
    subject, message = notification(summary, report, config)
    stores.notifications.publish(config.notification_topic_arn, subject, message)
    return True


def notify_erasure(stores: Stores, config: RunConfig, erasure: dict[str, Any]) -> bool:
    """Publish an erasure's notification (its status, totals and receipt), if the deployment
    has a topic; True if sent."""
    if not config.notification_topic_arn or stores.notifications is None:
        return False
    totals = erasure.get("totals") or {}
    status = erasure["status"]
    subject = f"syncpurge erasure {status}: s3://{config.target_bucket} ({config.execution_name})"
    lines = [
        f"syncpurge erasure {config.execution_name}: {status}",
        f"source s3://{config.source_bucket} -> target s3://{config.target_bucket}",
        f"keys {totals.get('keys', 0):,}, purged {totals.get('purged', 0):,}, retained "
        f"{totals.get('retained', 0):,}, left {totals.get('failed', 0):,}",
    ]
    if erasure.get("error"):
        lines.append(f"error: {erasure['error']}")
    if erasure.get("receipt"):
        lines.append(
            f"receipt: {erasure['receipt']} ({'signed' if erasure.get('signed') else 'not signed'})"
        )
    stores.notifications.publish(config.notification_topic_arn, subject, "\n".join(lines) + "\n")
    return True
