"""What is deployed to Lambda: lambdas/ plus the Powertools layer, on the Lambda runtime."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
# Lambda's Python runtime has boto3; the Powertools layer brings pydantic and aws-xray-sdk.
NOT_ON_LAMBDA = ("rich", "moto", "aws_cdk", "syncpurge_local", "syncpurge_infra", "hypothesis")


def test_handlers_import_nothing_the_lambda_bundle_lacks() -> None:
    probe = (
        "import sys\n"
        "for step in ('prepare', 'plan', 'diff', 'guard', 'purge', 'report', 'events'):\n"
        "    __import__(f'syncpurge_handlers.{step}')\n"
        f"print(sorted(m for m in {NOT_ON_LAMBDA!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=LAMBDAS
    )
    assert result.stdout.strip() == "[]"


def test_only_the_data_access_modules_use_boto3_clients() -> None:
    # Layering: handler -> library -> boto3. Only syncpurge/data/ builds clients.
    data_access = LAMBDAS / "syncpurge" / "data"
    offenders = []
    for path in (LAMBDAS / "syncpurge").rglob("*.py"):
        tree = ast.parse(path.read_text())
        imports = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        imports |= {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        if "boto3" in imports and path.parent != data_access:
            offenders.append(str(path.relative_to(LAMBDAS)))
    assert offenders == []


def test_domain_code_imports_no_powertools_and_reads_no_environment() -> None:
    for path in (LAMBDAS / "syncpurge").rglob("*.py"):
        text = path.read_text()
        assert "aws_lambda_powertools" not in text, path.name
        assert "os.environ" not in text, path.name
        assert "getenv" not in text, path.name


def test_the_only_delete_call_is_aimed_at_the_target_bucket() -> None:
    # Invariant 2, structurally: S3 deletes happen in three places of the data layer
    # (S3Store.delete_versions, delete_version for keys XML can't carry, remove_version for
    # the CLI's own lock version), and the library calls them only with the target bucket
    # (the lock lives in the target and refuses a target that is the source).
    deletes = (
        "delete_versions",
        "delete_version",
        "delete_objects",
        "delete_object",
        "remove_version",
    )
    calls = []
    for path in (LAMBDAS / "syncpurge").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                if is_call and node.func.attr in deletes:  # type: ignore[union-attr]
                    first = node.args[0] if node.args else node.keywords[0].value  # type: ignore[union-attr]
                    calls.append((path.name, function.name, ast.unparse(first)))
    assert sorted(calls) == [
        ("deletes.py", "_delete_many", "settings.target_bucket"),
        ("deletes.py", "_delete_one", "settings.target_bucket"),
        ("lock.py", "_delete", "self.bucket"),
        ("s3store.py", "delete_version", "params"),  # client.delete_object(**params)
        ("s3store.py", "delete_versions", "params"),  # client.delete_objects(**params)
        ("s3store.py", "remove_version", "bucket"),
    ]
