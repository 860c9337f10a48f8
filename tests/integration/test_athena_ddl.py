"""The Athena tables of docs/formats.md have exactly the columns of the files a run writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.engine_runs import run_engine
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"


def columns(table: str) -> list[str]:
    """Top-level column names of a CREATE EXTERNAL TABLE statement in docs/formats.md."""
    text = FORMATS.read_text()
    body = re.search(rf"CREATE EXTERNAL TABLE {table} \((.*?)\n\)\nROW FORMAT", text, re.S)
    assert body, f"no CREATE TABLE {table} in {FORMATS}"
    depth, names, current = 0, [], ""
    for char in body.group(1):
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current.split(maxsplit=1)[0])
            current = ""
        else:
            current += char
    names.append(current.split()[0])
    return names


def test_the_athena_columns_are_the_report_fields(pair: BucketPair, tmp_path: Path) -> None:
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)

    result, lines = run_engine(pair, tmp_path, {"maxPurgeFraction": 1.0})

    summary = (tmp_path / result.summary.run_id / "summary.json").read_text()
    assert summary.count("\n") == 1  # one object, one line
    assert columns("syncpurge_summaries") == list(json.loads(summary))
    assert result.summary.totals.purged == 1
    assert columns("syncpurge_entries") == list(lines[0])
