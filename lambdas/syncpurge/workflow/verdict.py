"""The last batch run's verdict on its source (docs/design.md §5 "Unrelated source"), kept in the
workspace for the event path: while the batch path refuses the source, the event path
decides nothing either (docs/design.md §13: it never purges what a batch run would not)."""

from __future__ import annotations

from syncpurge.core.policy import STATE_PREFIX
from syncpurge.workflow.context import (
    Location,
    RunContext,
    Stores,
    get_json,
    put_json,
)

VERDICT_FILE = "source-verdict.json"
REFUSING_ERROR = "UnrelatedSource"  # Guard's refusal, as the execution's error names it


def record_verdict(
    stores: Stores, run: RunContext, error: tuple[str, str] | None, *, guard_reached: bool
) -> None:
    """Report: a run that reached Guard's decision found the source related; one that
    failed with UnrelatedSource refused it. Any other failure says nothing of it."""
    if not stores.keeps_state:
        return
    if error is not None and error[0] == REFUSING_ERROR:
        refused: str | None = error[1]
    elif guard_reached:
        refused = None
    else:
        return
    root = Location(bucket=run.workspace.bucket, prefix=STATE_PREFIX)
    put_json(stores, root, VERDICT_FILE, {"runId": run.run_id, "refused": refused})


def last_refusal(stores: Stores, workspace_bucket: str) -> str | None:
    """Why the last batch run that judged the source refused it, or None."""
    doc = get_json(stores, Location(bucket=workspace_bucket, prefix=STATE_PREFIX), VERDICT_FILE)
    return None if doc is None else doc.get("refused")
