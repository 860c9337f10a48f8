"""The data-access layer's own pieces that need no S3."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncpurge.data.clients import parse_timestamp

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-12-12T07:37:29.000Z", datetime(2024, 12, 12, 7, 37, 29, tzinfo=UTC)),
        ("2024-12-12T07:37:29Z", datetime(2024, 12, 12, 7, 37, 29, tzinfo=UTC)),
        ("2024-12-12T07:37:29.123456+00:00", datetime(2024, 12, 12, 7, 37, 29, 123456, tzinfo=UTC)),
        ("Thu, 12 Dec 2024 07:37:29 GMT", datetime(2024, 12, 12, 7, 37, 29, tzinfo=UTC)),
    ],
)
def test_timestamps_parse_to_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() is not None
