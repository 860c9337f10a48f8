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


class BucketAccessDenied(PreflightRefused):
    """A bucket answered 403 to a call preflight makes: `action` is the IAM action it needs."""

    def __init__(self, bucket: str, action: str, owner: str | None) -> None:
        self.action = action
        maybe_owner = (
            f", or it is not owned by the expected account {owner} (ExpectedBucketOwner)"
            if owner
            else ""
        )
        super().__init__(
            f"bucket {bucket!r}: access denied to {action}: this identity may not call it on "
            f"the bucket{maybe_owner}; nothing was deleted"
        )
