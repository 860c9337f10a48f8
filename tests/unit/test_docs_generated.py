"""The generated pages of docs/ say what the code does now: the CLI reference is the
parser's, the JSON Schemas the models' (`./dev docs` rewrites them; tests/docgen.py)."""

from __future__ import annotations

import pytest

from tests.docgen import REPO, SCHEMAS, generated

pytestmark = pytest.mark.unit


def test_the_cli_reference_and_the_schemas_in_docs_are_what_the_code_generates() -> None:
    stale = [
        str(path.relative_to(REPO))
        for path, text in generated().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]

    assert not stale, f"run `./dev docs` and commit the result: {stale} differ from the code"


def test_docs_hold_no_schema_the_code_no_longer_generates() -> None:
    left = set(SCHEMAS.glob("*.json")) - set(generated())

    assert not left, f"run `./dev docs`: {sorted(str(p.relative_to(REPO)) for p in left)}"
