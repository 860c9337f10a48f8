"""One batch of deletes, as S3 really answers them (docs/design.md §5 "Outcomes per entry").

Outcomes come only from DeleteObjects' `Deleted` and `Errors` (or a single DeleteObject's
answer): `purged`; `retained` (Object Lock or legal hold, on a target with Object Lock);
`skipped` / `already-absent` (NoSuchVersion: the entry is gone already); `failed`. Only
throttling, 5xx and connection errors are retried — botocore's `standard` mode retries the
call, and entries S3 reports as transient errors are sent again here; any other 4xx fails
at once, with its error. A request S3 rejects whole as `MalformedXML` is split; a key XML
1.0 can't carry is deleted on its own with DeleteObject, whose key travels in the URL.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from syncpurge.data.s3shapes import XML_INVALID
from syncpurge.data.s3store import S3Store
from syncpurge.models import Outcome, PlannedEntry, SkipReason

RETRYABLE_CODES = frozenset(
    {"InternalError", "SlowDown", "ServiceUnavailable", "RequestTimeout", "OperationAborted"}
)
ABSENT_CODES = frozenset({"NoSuchVersion", "NoSuchKey"})

Ref = tuple[str, str]


@dataclass(slots=True, frozen=True)
class OutcomeRecord:
    planned: PlannedEntry
    outcome: Outcome
    reason: str
    error: str | None = None


@dataclass(slots=True, frozen=True)
class PurgeSettings:
    target_bucket: str
    source_bucket: str
    bypass_governance: bool = False
    target_object_lock: bool = False
    max_in_flight: int = 4
    attempts: int = 4
    backoff_seconds: float = 0.2

    @property
    def send_bypass(self) -> bool:
        # S3 rejects BypassGovernanceRetention on a bucket without Object Lock (400).
        return self.bypass_governance and self.target_object_lock


def classify(
    item: PlannedEntry, code: str, message: str, settings: PurgeSettings
) -> OutcomeRecord | None:
    """The outcome an error gives an entry, or None when it is worth sending again."""
    error = f"{code}: {message}"
    if code in RETRYABLE_CODES:
        return None
    if code in ABSENT_CODES:
        return OutcomeRecord(item, Outcome.SKIPPED, SkipReason.ALREADY_ABSENT.value, error)
    if code == "AccessDenied" and settings.target_object_lock and "lock" in message.lower():
        return OutcomeRecord(item, Outcome.RETAINED, "object lock", error)
    return OutcomeRecord(item, Outcome.FAILED, code, error)


def _transient(err: Exception) -> bool:
    if isinstance(err, BotoCoreError):
        return True  # connection reset, read timeout: botocore gave up; try the batch again
    assert isinstance(err, ClientError)
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return status >= 500 or status == 429 or _code(err) in RETRYABLE_CODES


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def delete_batch(
    target: S3Store, batch: Sequence[PlannedEntry], settings: PurgeSettings
) -> list[OutcomeRecord]:
    """Delete up to 1,000 entries; one outcome per entry."""
    records: list[OutcomeRecord] = []
    plain = []
    for item in batch:
        if XML_INVALID.search(item.entry.key):
            records.append(_delete_one(target, item, settings))
        else:
            plain.append(item)
    if plain:
        records.extend(_delete_many(target, plain, settings))
    return records


def _delete_one(target: S3Store, item: PlannedEntry, settings: PurgeSettings) -> OutcomeRecord:
    last = "not attempted"
    for attempt in range(settings.attempts):
        if attempt:
            time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
        try:
            target.delete_version(
                settings.target_bucket,
                item.entry.key,
                item.entry.version_id,
                bypass_governance=settings.send_bypass,
            )
        except (ClientError, BotoCoreError) as err:
            if isinstance(err, ClientError):
                message = str(err.response.get("Error", {}).get("Message", err))
                outcome = classify(item, _code(err), message, settings)
                if outcome is not None and not _transient(err):
                    return outcome
            last = f"DeleteObject failed: {err}"
            continue
        return OutcomeRecord(item, Outcome.PURGED, item.detail)
    return OutcomeRecord(item, Outcome.FAILED, "retries exhausted", last)


def _delete_many(
    target: S3Store, batch: Sequence[PlannedEntry], settings: PurgeSettings
) -> list[OutcomeRecord]:
    remaining: dict[Ref, PlannedEntry] = {(p.entry.key, p.entry.version_id): p for p in batch}
    records: list[OutcomeRecord] = []
    last_error: dict[Ref, str] = {}
    for attempt in range(settings.attempts):
        if attempt:
            time.sleep(settings.backoff_seconds * 2 ** (attempt - 1))
        try:
            result = target.delete_versions(
                settings.target_bucket, list(remaining), bypass_governance=settings.send_bypass
            )
        except (ClientError, BotoCoreError) as err:
            if isinstance(err, ClientError) and _code(err) == "MalformedXML":
                return records + _split(target, list(remaining.values()), settings)
            if not _transient(err):
                # A 4xx for the whole request (InvalidArgument, AccessDenied...): sending
                # it again would only fail again.
                error = f"DeleteObjects failed: {err}"
                code = _code(err) if isinstance(err, ClientError) else "error"
                return records + [
                    OutcomeRecord(item, Outcome.FAILED, code, error) for item in remaining.values()
                ]
            for ref in remaining:
                last_error[ref] = f"DeleteObjects failed: {err}"
            continue
        for ref in result.deleted:
            item = remaining.pop(ref, None)
            if item is not None:
                records.append(OutcomeRecord(item, Outcome.PURGED, item.detail))
        for failure in result.errors:
            for ref in _refs_of(failure.key, failure.version_id, remaining):
                outcome = classify(remaining[ref], failure.code, failure.message, settings)
                if outcome is None:
                    last_error[ref] = f"{failure.code}: {failure.message}"
                else:
                    records.append(outcome)
                    del remaining[ref]
        if not remaining:
            break
    for ref, item in remaining.items():
        error = last_error.get(ref, "not reported by DeleteObjects as deleted or failed")
        records.append(OutcomeRecord(item, Outcome.FAILED, "retries exhausted", error))
    return records


def _split(
    target: S3Store, batch: list[PlannedEntry], settings: PurgeSettings
) -> list[OutcomeRecord]:
    """A request rejected whole (MalformedXML): halve it until the bad entry stands alone."""
    if len(batch) == 1:
        return [_delete_one(target, batch[0], settings)]
    middle = len(batch) // 2
    return _delete_many(target, batch[:middle], settings) + _delete_many(
        target, batch[middle:], settings
    )


def _refs_of(key: str, version_id: str, remaining: dict[Ref, PlannedEntry]) -> list[Ref]:
    """The requested entries an Errors item speaks of.

    S3 names the VersionId; an S3-compatible store that omits it speaks of every entry of
    that key in the request (still only retried or reported, never assumed deleted).
    """
    if version_id:
        return [(key, version_id)] if (key, version_id) in remaining else []
    return [ref for ref in remaining if ref[0] == key]
