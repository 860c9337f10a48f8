"""Constructs with one job each: report bucket, DataSync task, functions, their permissions,
state machine, schedule, notifications, alarm, dashboard, the event path, the receipt key."""

from syncpurge_infra.constructs.alarm import FailureAlarm, ResurrectionAlarm
from syncpurge_infra.constructs.dashboard import Dashboard
from syncpurge_infra.constructs.datasync_task import DataSyncTask
from syncpurge_infra.constructs.event_path import EventPath
from syncpurge_infra.constructs.functions import Functions
from syncpurge_infra.constructs.notifications import Notifications
from syncpurge_infra.constructs.permissions import grant_step_permissions
from syncpurge_infra.constructs.receipt_key import ReceiptKey
from syncpurge_infra.constructs.report_bucket import ReportBucket
from syncpurge_infra.constructs.trigger import Trigger
from syncpurge_infra.constructs.workflow import Workflow, substitutions

__all__ = [
    "Dashboard",
    "DataSyncTask",
    "EventPath",
    "FailureAlarm",
    "Functions",
    "Notifications",
    "ReceiptKey",
    "ReportBucket",
    "ResurrectionAlarm",
    "Trigger",
    "Workflow",
    "grant_step_permissions",
    "substitutions",
]
