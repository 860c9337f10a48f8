"""Errors a run can end with. Each carries a message a person can act on."""


class SyncPurgeError(Exception):
    """Base of every error the library raises on purpose."""


class InvalidInput(SyncPurgeError):
    """The request is malformed; nothing was listed or deleted."""


class PreflightRefused(SyncPurgeError):
    """The buckets or the task are not in a state where purging is safe; nothing deleted."""


class UnrelatedSource(PreflightRefused):
    """The source holds nothing in scope, or no key in common with the target."""


class AlreadyRunning(PreflightRefused):
    """Another execution of the same state machine is running."""
