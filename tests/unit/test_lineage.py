"""Lineage from DataSync task reports, in the format DataSync documents.

The fixtures are the examples of the DataSync user guide, "Monitoring your data transfers
with task reports", section "Example task reports" (transferred data reports with success
and error status, Enhanced and Basic mode):
https://docs.aws.amazon.com/datasync/latest/userguide/task-reports.html
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncpurge.core.lineage import (
    LineageIndex,
    is_transferred_report,
    origin_from_json,
    origin_to_json,
    parse_transferred,
    report_kind,
)
from syncpurge.core.source_facts import Origin
from syncpurge.models import Entry

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(name: str) -> dict[str, object]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def test_enhanced_mode_reports_give_the_target_version_and_its_source_object() -> None:
    records = list(parse_transferred(load("datasync-transferred-report.json")))

    # Only the successful transfer counts; the failed one wrote no version.
    assert records == [
        (
            "jtqRtX3jN4J2G8k0sFSGYK1f35KqpAVP",
            Origin(
                "object1.txt",
                6,
                datetime(2024, 10, 4, 14, 40, 55, tzinfo=UTC),
                '"9b2d7e1f8054c3a2041905d0378e6f14"',
            ),
        )
    ]


def test_basic_mode_reports_have_a_leading_slash_and_nanosecond_mtime() -> None:
    (record,) = parse_transferred(load("datasync-transferred-report-basic.json"))

    assert record == (
        "jtqRtX3jN4J2G8k0sFSGYK1f35KqpAVP",
        Origin("object1.txt", 6, datetime(2022, 1, 7, 16, 59, 26, tzinfo=UTC), None),
    )


def test_an_origin_is_held_by_the_source_version_it_names_to_the_second() -> None:
    origin = Origin("k", 6, datetime(2024, 10, 4, 14, 40, 55, tzinfo=UTC), '"e"')
    listed = datetime(2024, 10, 4, 14, 40, 55, 412000, tzinfo=UTC)  # S3 lists milliseconds

    assert origin.is_held_by(Entry("k", "s1", False, listed, False, 6, '"e"'))
    assert not origin.is_held_by(Entry("k", "s2", False, listed, False, 6, '"other"'))
    assert not origin.is_held_by(Entry("k", "s3", False, listed, False, 7, '"e"'))
    assert not origin.is_held_by(Entry("k", "m", False, listed, True))


def test_lineage_records_round_trip_through_the_workspace_codec() -> None:
    records = list(parse_transferred(load("datasync-transferred-report.json")))
    lines = [json.dumps(origin_to_json(*record)) for record in records]

    index = LineageIndex.from_lines(lines)

    assert [origin_from_json(json.loads(line)) for line in lines] == records
    assert index.lookup("jtqRtX3jN4J2G8k0sFSGYK1f35KqpAVP") == records[0][1]
    assert index.lookup("unknown") is None


EXEC = "exec-0a12a34ab112233ab"  # 17 hex digits, as DataSync's execution ids


def test_only_transferred_reports_are_read() -> None:
    # Relative to <Subdirectory>Detailed-Reports/<task-id>/, as DataSync names them
    folder = f"{EXEC}/{EXEC}"
    assert is_transferred_report(f"{folder}.files-transferred-v1-00001-0a123abc12d3b0e4f.json")
    assert not is_transferred_report(f"{folder}.files-verified-v1-00001-0a123abc12d3b0e4f.json")
    assert not is_transferred_report(f"{folder}.files-deleted-v1-00001-0a123abc12d3b0e4f.json")


@pytest.mark.parametrize(
    "planted",
    [
        # defect 11: under a folder a `*Purge-Reports/*` writer may write to
        "x/Purge-Reports/evil-files-transferred.json",
        f"{EXEC}/Purge-Reports/{EXEC}.files-transferred-v1-00001-0a123abc12d3b0e4f.json",
        f"x/Purge-Reports/{EXEC}/{EXEC}.files-transferred-v1-00001-0a123abc12d3b0e4f.json",
        # not directly in an execution's folder, or not its own report
        f"{EXEC}.files-transferred-v1-00001-0a123abc12d3b0e4f.json",
        f"{EXEC}/sub/{EXEC}.files-transferred-v1-00001-0a123abc12d3b0e4f.json",
        f"{EXEC}/exec-0a12a34ab112233ac.files-transferred-v1-00001-0a123abc12d3b0e4f.json",
        # execution ids DataSync doesn't make
        "exec-1/exec-1.files-transferred-v1-00001-0a123abc12d3b0e4f.json",
        "exec-0A12A34AB112233AB/exec-0A12A34AB112233AB.files-transferred-v1-00001-0.json",
        # names DataSync doesn't give
        f"{EXEC}/{EXEC}.files-transferred.json",
        f"{EXEC}/evil-files-transferred.json",
        f"{EXEC}/{EXEC}.files-transferred-v1-00001-0a123abc12d3b0e4f.json.bak",
    ],
)
def test_files_datasync_does_not_write_are_not_reports(planted: str) -> None:
    assert report_kind(planted) is None
    assert not is_transferred_report(planted)
