"""The JSON Schemas in docs/reference/schemas/ describe the files a run really writes:
the stored plan's guard.json and lines, the report's entry lines and summary.json, from a
dry run and the run that applies its plan; and the state machine's request as the docs show it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from syncpurge.cli import EXIT_OK, main
from syncpurge.phases.report import read_entries_lines
from tests.docgen import SCHEMAS
from tests.helpers import BucketPair, reconcile_flags, run_folders

pytestmark = pytest.mark.integration


def check(schema: str, doc: Any) -> None:
    validator = jsonschema.Draft202012Validator(json.loads((SCHEMAS / schema).read_text()))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, (schema, doc, errors)


def test_the_files_a_dry_run_and_its_applied_plan_write_match_the_schemas(
    pair: BucketPair, tmp_path: Path
) -> None:
    # Given a live key, a vanished key and a noncurrent version the source never held
    pair.put_live()
    pair.put("gone", "x", bucket=pair.target)
    pair.put("kept", "old content", bucket=pair.target)
    pair.put("kept", "new")
    pair.put("kept", "new", bucket=pair.target)

    # When a dry run plans, and a second run applies its plan
    assert main(reconcile_flags(pair, "--report", str(tmp_path), "--dry-run")) == EXIT_OK
    (planned,) = run_folders(tmp_path)
    applied = reconcile_flags(pair, "--report", str(tmp_path), "--apply-plan", planned.name)
    assert main(applied) == EXIT_OK

    # Then every file of both runs has the documented shape
    runs = run_folders(tmp_path)
    assert len(runs) == 2
    for run in runs:
        check("summary.schema.json", json.loads((run / "summary.json").read_text()))
        lines = list(read_entries_lines(run))
        assert lines
        for line in lines:
            check("entry-line.schema.json", line)
    workspace = tmp_path / "syncpurge-work" / planned.name
    check("guard.schema.json", json.loads((workspace / "guard.json").read_text()))
    chunks = sorted((workspace / "plan").glob("*.jsonl"))
    plan_lines = [json.loads(line) for chunk in chunks for line in chunk.open()]
    stats = [json.loads(p.read_text()) for p in (workspace / "diff-stats").glob("*.json")]
    assert len(plan_lines) == sum(doc["planned"] + doc["skipped"] for doc in stats) > 0
    for line in plan_lines:
        check("plan-line.schema.json", line)


def test_the_request_schema_takes_the_documented_request_and_refuses_a_misspelt_field() -> None:
    documented = {
        "prefixes": ["logs/2024/"],
        "dryRun": False,
        "skipSync": False,
        "mode": "datasync",
        "rules": ["vanished-key", "orphan-version", "orphan-marker"],
        "graceMinutes": 0,
        "maxPurge": 100000,
        "maxPurgeFraction": 0.05,
        "force": False,
        "bypassGovernance": False,
        "overridePreserve": False,
        "allowUnrelatedSource": False,
        "applyPlan": None,
    }
    check("request.schema.json", documented)
    check("request.schema.json", {})

    with pytest.raises(AssertionError, match="dryrun"):
        check("request.schema.json", {"dryrun": True})
