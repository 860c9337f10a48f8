"""Bad state-machine inputs, table-driven (issue 8): each execution fails with
InvalidInput, the cause names the field, no DataSync task runs and nothing is deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from syncpurge_local.runtime import LocalRuntime
from tests.workflow.conftest import Deployed, deploy

pytestmark = pytest.mark.workflow

BIG = 10**10
# (id, the execution input, what the cause must name)
BAD_INPUTS: list[tuple[str, Any, str]] = [
    ("fraction-over-one", {"maxPurgeFraction": 2}, "maxPurgeFraction"),
    ("fraction-zero", {"maxPurgeFraction": 0}, "maxPurgeFraction"),
    ("fraction-negative", {"maxPurgeFraction": -0.5}, "maxPurgeFraction"),
    ("fraction-string", {"maxPurgeFraction": "0.5"}, "maxPurgeFraction"),
    ("fraction-bool", {"maxPurgeFraction": True}, "maxPurgeFraction"),
    ("fraction-null", {"maxPurgeFraction": None}, "maxPurgeFraction"),
    ("max-purge-negative", {"maxPurge": -1}, "maxPurge"),
    ("max-purge-fraction", {"maxPurge": 1.5}, "maxPurge"),
    ("max-purge-string", {"maxPurge": "100"}, "maxPurge"),
    ("max-purge-null", {"maxPurge": None}, "maxPurge"),
    ("grace-negative", {"graceMinutes": -1}, "graceMinutes"),
    ("grace-huge", {"graceMinutes": BIG}, "graceMinutes"),
    ("grace-string", {"graceMinutes": "15"}, "graceMinutes"),
    ("grace-fraction", {"graceMinutes": 1.5}, "graceMinutes"),
    ("prefix-number", {"prefixes": [7]}, "prefixes[0]"),
    ("prefixes-string", {"prefixes": "logs/"}, "prefixes"),
    ("prefix-empty", {"prefixes": [""]}, "prefixes[0]"),
    ("prefix-leading-slash", {"prefixes": ["/logs/"]}, "prefixes[0]"),
    ("prefix-s3-uri", {"prefixes": ["s3://wf-source/logs/"]}, "prefixes[0]"),
    ("prefix-pipe", {"prefixes": ["a|b/"]}, "prefixes[0]"),
    ("prefix-star", {"prefixes": ["logs/*"]}, "prefixes[0]"),
    ("prefix-too-long", {"prefixes": ["p" * 1025]}, "prefixes[0]"),
    ("prefix-null", {"prefixes": [None]}, "prefixes[0]"),
    ("second-prefix-bad", {"prefixes": ["ok/", 3]}, "prefixes[1]"),
    ("unknown-field", {"surprise": True}, "surprise"),
    ("field-case", {"Prefixes": ["a/"]}, "Prefixes"),
    ("field-typo", {"dryrun": True}, "dryrun"),
    ("mode-unknown", {"mode": "mirror"}, "mode"),
    ("mode-number", {"mode": 1}, "mode"),
    ("mode-upper", {"mode": "DATASYNC"}, "mode"),
    ("rules-empty", {"rules": []}, "rules"),
    ("rule-unknown", {"rules": ["nope"]}, "rules"),
    ("rules-string", {"rules": "vanished-key"}, "rules"),
    ("rule-number", {"rules": ["vanished-key", 5]}, "rules"),
    ("dry-run-string", {"dryRun": "yes"}, "dryRun"),
    ("dry-run-number", {"dryRun": 1}, "dryRun"),
    ("skip-sync-string", {"skipSync": "true"}, "skipSync"),
    ("force-string", {"force": "false"}, "force"),
    ("bypass-number", {"bypassGovernance": 1}, "bypassGovernance"),
    ("override-string", {"overridePreserve": "no"}, "overridePreserve"),
    ("unrelated-null", {"allowUnrelatedSource": None}, "allowUnrelatedSource"),
    ("bad-with-good", {"dryRun": True, "maxPurgeFraction": 5}, "maxPurgeFraction"),
    ("input-list", [], "must be a JSON object"),
    ("input-string", "purge", "must be a JSON object"),
    ("input-number", 42, "must be a JSON object"),
    ("input-null", None, "must be a JSON object"),
]


@pytest.fixture(scope="module")
def shared() -> Iterator[Deployed]:
    # Refused inputs change nothing, so one deployment serves the whole table.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with LocalRuntime() as runtime:
            deployed = deploy(runtime)
            pair = deployed.pair
            pair.put_live()
            pair.put("gone", "x", bucket=pair.target)
            yield deployed


@pytest.mark.parametrize(
    ("request_doc", "named"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_fails_with_invalid_input_naming_the_field(
    shared: Deployed, request_doc: Any, named: str
) -> None:
    # Given a target with an entry a good run would purge
    before = (shared.pair.entries(shared.pair.source), shared.pair.entries())
    executions = dict(shared.runtime.datasync.executions)

    # When the machine is started with the bad input
    result = shared.run(json.dumps(request_doc))

    # Then it fails with InvalidInput naming the field, and nothing ran or was deleted
    assert result.status == "FAILED"
    assert result.error == "InvalidInput", result.cause
    assert named in (result.cause or "")
    assert shared.runtime.datasync.executions == executions
    assert (shared.pair.entries(shared.pair.source), shared.pair.entries()) == before
