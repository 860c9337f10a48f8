"""`syncpurge start --prefix s3://BUCKET/PREFIX/` (issue 30): the path's bucket must be the
deployed source or target (read off the state machine's definition), its prefix scopes
the run; a third bucket is refused before anything starts."""

from __future__ import annotations

import json

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK
from tests.workflow.conftest import Deployed
from tests.workflow.test_start import start

pytestmark = pytest.mark.workflow


def test_an_s3_path_in_the_deployed_target_scopes_the_run(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    deployed.pair.put("logs/gone", "x", bucket=deployed.pair.target)
    deployed.pair.put("logs/live", "x")

    code = start(deployed, "--prefix", f"s3://{deployed.pair.target}/logs/", "--dry-run", "--json")

    out = capsys.readouterr()
    assert code == EXIT_OK, out.err
    assert json.loads(out.out)["prefixes"] == ["logs/"]


def test_an_s3_path_in_another_bucket_is_refused_before_the_start(
    deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code = start(deployed, "--prefix", "s3://not-a-deployed-bucket/logs/", "--dry-run")

    err = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert "not-a-deployed-bucket" in err
    assert "neither the source" in err
    assert len(err.strip().splitlines()) == 1
    assert deployed.runtime.invocations == []
