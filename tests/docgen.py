"""The generated pages of the docs site (`./dev docs` writes them): the CLI reference, from
`syncpurge.cli.build_parser()`, and the JSON Schemas of the request, the plan, the report's
entry lines and summary.json, from the pydantic models. `tests/unit/test_docs_generated.py`
fails when the files in docs/ differ from what the code generates now.

The request and summary.json are the code's own models. The plan's files and the entry
lines are written as dicts (`syncpurge.core.plan`, `syncpurge.phases.report`), so their
models are here, and `tests/integration/test_docs_formats.py` holds them to what a run
really writes."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from markdown.extensions.toc import slugify
from pydantic import BaseModel, ConfigDict, Field

from syncpurge.cli import build_parser
from syncpurge.erasure.followup import SealedFollowUp
from syncpurge.erasure.receipt import SealedReceipt
from syncpurge.erasure.recheck import CheckResult
from syncpurge.models import GuardDecision, Outcome, Proof, ReconcileRequest, Rule
from syncpurge.phases.decision import Decision
from syncpurge.summary import Summary

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"
SCHEMAS = DOCS / "reference" / "schemas"


# --------------------------------------------------------------------------- formats


class PlanLine(BaseModel):
    """One line of a run's `plan/*.jsonl` (in its workspace): a target entry the diff
    selected, to purge (with its proof) or skipped (with the reason). Short names: a plan
    may hold millions of lines. `reports show RUN_ID --plan` prints them with the entry
    lines' names."""

    model_config = ConfigDict(extra="forbid", strict=True, title="plan line")

    key: str = Field(alias="k", description="the target key")
    version_id: str = Field(alias="v", description="its VersionId")
    is_latest: bool = Field(alias="l", description="the key's current entry when diffed")
    last_modified: str = Field(alias="m", description="LastModified, ISO 8601")
    is_delete_marker: bool = Field(alias="d", description="a delete marker, not a version")
    size: int | None = Field(alias="s", description="a version's size (null for a marker)")
    etag: str | None = Field(alias="t", description="a version's ETag (null for a marker)")
    rule: Rule = Field(alias="r", description="the rule that selected it")
    detail: str = Field(alias="x", description="why, in words")
    skip: str | None = Field(description="the skip reason, or null: to purge")
    source_predecessor: str | None = Field(
        alias="p", description="the source key before it (where verify re-lists from)"
    )
    proof: Proof | None = Field(alias="f", description="the proof that lets it go")
    source_key: str | None = Field(alias="sk", description="the source key it maps to")
    key_entries: int = Field(alias="n", description="the target key's entries when diffed")


class StoredGuard(BaseModel):
    """`syncpurge-work/<run-id>/guard.json`: the guard's decision on a run's plan, kept in
    the run's workspace before its first delete. With the workspace's `run.json` (the run's
    request), `diff-stats/` (its figures, and which plan files hold its lines) and
    `plan/*.jsonl` (the lines), it is the plan `--apply-plan RUN_ID`
    (`{"applyPlan": "RUN_ID"}`) re-checks and purges."""

    model_config = ConfigDict(extra="forbid", strict=True, title="guard.json")

    decision: Decision = Field(description="what the run did with its plan")
    guard: GuardDecision = Field(description="the guard's decision on this plan")


class EntryLine(BaseModel):
    """One line of `entries/entries-NNNNN.jsonl`: a planned target entry and what became of
    it. Athena reads these files as the `syncpurge_entries` table."""

    model_config = ConfigDict(extra="forbid", strict=True, title="report entry line")

    run_id: str = Field(alias="runId")
    key: str
    version_id: str = Field(alias="versionId")
    is_delete_marker: bool = Field(alias="isDeleteMarker")
    rule: Rule
    proof: Proof | None = Field(description="the proof it went with (null when skipped)")
    outcome: Outcome
    reason: str | None = Field(description="why it was skipped or retained")
    size: int | None
    last_modified: str = Field(alias="lastModified", description="LastModified, ISO 8601")
    error: str | None = Field(description="S3's error, for a failed entry")


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema of each format."""
    return {
        "request.schema.json": ReconcileRequest.model_json_schema(by_alias=True),
        "guard.schema.json": StoredGuard.model_json_schema(by_alias=True),
        "plan-line.schema.json": PlanLine.model_json_schema(by_alias=True),
        "entry-line.schema.json": EntryLine.model_json_schema(by_alias=True),
        "summary.schema.json": Summary.model_json_schema(by_alias=True, mode="serialization"),
        "receipt.schema.json": SealedReceipt.model_json_schema(by_alias=True),
        "receipt-check.schema.json": CheckResult.model_json_schema(by_alias=True),
        "receipt-followup.schema.json": SealedFollowUp.model_json_schema(by_alias=True),
    }


# --------------------------------------------------------------------------- CLI


def _design_anchors() -> dict[str, str]:
    anchors = {}
    for line in (DOCS / "design.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", line)
        if match:
            anchors[match.group(1)] = slugify(line.lstrip("#").strip(), "-")
    return anchors


def _text(text: str, anchors: dict[str, str]) -> str:
    """Help text as Markdown that shows it as written, design references linked."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    text = re.sub(r"([\\`*_\[\]{}#|>])", r"\\\1", text)
    return re.sub(
        r"docs/design\.md §(\d+(?:\.\d+)?)",
        lambda m: f"[docs/design.md §{m.group(1)}](../design.md#{anchors[m.group(1)]})",
        text,
    )


def _commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """The parser and every subcommand's parser, depth first, in the order they were added."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for sub in action.choices.values():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield from _commands(sub)


def _usage(parser: argparse.ArgumentParser) -> str:
    formatter = argparse.HelpFormatter(parser.prog, width=10_000)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups, "")
    return formatter.format_help().strip()


def _options(parser: argparse.ArgumentParser, anchors: dict[str, str]) -> Iterator[str]:
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:  # one per subcommand, aliases folded
                yield f"- `{choice.dest}`: {_text(choice.help or '', anchors)}"
            continue
        invocation = formatter._format_action_invocation(action)
        help_text = formatter._expand_help(action) if action.help else ""
        required = " (required)" if action.required and action.option_strings else ""
        yield f"- `{invocation}`{required}: {_text(help_text.strip(), anchors)}".rstrip(": ")


def cli_reference() -> str:
    parser = build_parser()
    anchors = _design_anchors()
    lines = [
        "# CLI reference",
        "",
        "<!-- Generated from syncpurge.cli.build_parser() by `./dev docs`: do not edit. -->",
        "",
        "Every command and flag of `syncpurge`, as `--help` gives them. [The CLI](../cli.md)",
        "says how they fit together.",
    ]
    top_epilog = parser.epilog
    for command in _commands(parser):
        lines += ["", f"## {command.prog}", ""]
        if command.description:
            lines += [_text(command.description, anchors), ""]
        lines += ["```text", _usage(command), "```", ""]
        lines += list(_options(command, anchors))
        if command.epilog and (command is parser or command.epilog != top_epilog):
            lines += ["", "```text", command.epilog, "```"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- files


def generated() -> dict[Path, str]:
    """Every generated file of docs/, path → text."""
    files = {CLI_PAGE: cli_reference()}
    for name, schema in schemas().items():
        files[SCHEMAS / name] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return files


def main() -> None:
    files = generated()
    stale = sorted(set(SCHEMAS.glob("*.json")) - set(files))
    for path in stale:
        path.unlink()
        print(f"removed {path.relative_to(REPO)}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
