"""syncpurge: carry permanent deletes from a versioned S3 source to its synced copy.

Layers, from the inside out:
    core/      where a purge is decided (rules, proof, diff, plan, guard, policy); pure
    data/      where S3, DataSync, Step Functions and SNS are called; the only boto3 users
    phases/    the phases of a run (preflight, diff, re-check, purge, report)
    workflow/  the state machine's driver: one function per step, state in a workspace
    engine.py  the CLI's driver of the same phases; cli/ is its front door
    events/    the event path's driver (a permanent delete, minutes after it happens)
models.py (entries, the request, the guard), summary.py (summary.json) and errors.py are
the vocabulary every layer shares.
"""

__version__ = "0.1.0"
