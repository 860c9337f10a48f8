"""S3's EventBridge `Object Deleted` events, read as hints (docs/design.md §13).

An event names a bucket, a key and a version; it does not say whether the version was a
delete marker, it may arrive twice or out of order, and its key's encoding is not one the
purge can trust: S3's notification formats URL-encode keys (a space as '+'), and an
EventBridge event's `object.key` is not documented either way. So a notice yields every
key its text can stand for, the text as given and its form-decoded reading, and each is
decided on its own fresh listings: a reading that names no key of the source's history
purges nothing. Keys are never Unicode-normalized: NFC and NFD forms are different keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from syncpurge.errors import InvalidInput

DETAIL_TYPE = "Object Deleted"
PERMANENT = "Permanently Deleted"


@dataclass(frozen=True)
class DeletionNotice:
    """One permanent delete S3 reported at the source."""

    bucket: str
    key_text: str  # object.key exactly as the event carries it
    version_id: str
    time: datetime  # what the message claims
    event_id: str
    # When the queue took the message (SQS SentTimestamp): a time the sender can't choose.
    sent_at: datetime | None = None

    @property
    def known_at(self) -> datetime:
        """The time the hold counts from: the later of the event's claim and the queue's
        receipt, so a message dated in the past can't skip the hold (docs/design.md §13)."""
        return self.time if self.sent_at is None else max(self.time, self.sent_at)

    def candidate_keys(self) -> list[str]:
        """The keys the event's key text can stand for (see the module's docstring)."""
        decoded = unquote_plus(self.key_text)
        return [self.key_text] if decoded == self.key_text else [self.key_text, decoded]


def parse_notice(event: dict[str, Any], sent_at: datetime | None = None) -> DeletionNotice | None:
    """The notice an EventBridge event carries, None for one that is no permanent delete
    (a delete marker created, another detail type); InvalidInput for a malformed one.
    `sent_at`: when the queue took the message."""
    if event.get("detail-type") != DETAIL_TYPE or event.get("source") != "aws.s3":
        return None
    detail = event.get("detail") or {}
    if detail.get("deletion-type", PERMANENT) != PERMANENT:
        return None
    try:
        notice = DeletionNotice(
            bucket=str(detail["bucket"]["name"]),
            key_text=str(detail["object"]["key"]),
            version_id=str(detail["object"].get("version-id") or "null"),
            time=datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")),
            event_id=str(event.get("id", "")),
            sent_at=sent_at,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(f"not an S3 Object Deleted event ({type(err).__name__}: {err})") from err
    # One odd message must not sink its batch: refused here, it alone goes to the DLQ.
    if notice.time.tzinfo is None:
        raise InvalidInput(f"event time {event['time']!r} names no time zone")
    try:
        notice.key_text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("the event's key is not UTF-8, so it names no S3 key") from None
    return notice
