"""The state machine's steps (docs/design.md §6) as plain functions, one module per step.

Handlers only parse an event and call one of these; see `context` for the state shape and
the run's workspace layout.
"""

from syncpurge.phases.decision import Decision
from syncpurge.workflow.apply import diff_step
from syncpurge.workflow.context import Location, RunConfig, RunContext, RunEvent, Stores
from syncpurge.workflow.diff import DiffItemEvent, Progress, diff_item
from syncpurge.workflow.guard import guard
from syncpurge.workflow.plan import PlanEvent, WorkItem, plan_items, plan_step
from syncpurge.workflow.prepare import PrepareEvent, datasync_includes, prepare
from syncpurge.workflow.purge import PurgeItem, PurgeItemEvent, PurgeSlice, purge_item
from syncpurge.workflow.report import FailureInfo, ReportEvent, describe_failure, report

__all__ = [
    "Decision",
    "DiffItemEvent",
    "FailureInfo",
    "Location",
    "PlanEvent",
    "PrepareEvent",
    "Progress",
    "PurgeItem",
    "PurgeItemEvent",
    "PurgeSlice",
    "ReportEvent",
    "RunConfig",
    "RunContext",
    "RunEvent",
    "Stores",
    "WorkItem",
    "datasync_includes",
    "describe_failure",
    "diff_item",
    "diff_step",
    "guard",
    "plan_items",
    "plan_step",
    "prepare",
    "purge_item",
    "report",
]
