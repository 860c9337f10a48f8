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


class ListingFailed(SyncPurgeError):
    """A ListObjectVersions failed after the client's retries: `call` names the request,
    `code` the error."""

    def __init__(self, call: str, code: str, message: str) -> None:
        self.call, self.code = call, code
        super().__init__(f"{call} failed: {code}: {message}")


class StoreUnreachable(SyncPurgeError):
    """Listings of one key after another failed: the store, not a key, is in trouble."""


class FailureStreak:
    """Listings of single keys that failed in a row. One key the store can't answer about
    is that key's trouble (it is kept, and reported); `limit` in a row end the run, nothing
    more deleted: the store is unreachable or refuses, and each key would spend its own
    retries finding that out."""

    def __init__(self, what: str, limit: int = 3) -> None:
        self.what, self.limit, self.count = what, limit, 0

    def failed(self, failure: ListingFailed) -> None:
        self.count += 1
        if self.count >= self.limit:
            raise StoreUnreachable(
                f"{self.what}: {self.count} listings of single keys failed in a row, the "
                f"last: {failure}; nothing more was deleted"
            ) from failure

    def succeeded(self) -> None:
        self.count = 0
