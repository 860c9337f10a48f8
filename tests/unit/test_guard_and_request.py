"""docs/design.md §5 guard and §7 request validation."""

from __future__ import annotations

from typing import Any

import pytest

from syncpurge.core.guard import evaluate_guard
from syncpurge.errors import InvalidInput
from syncpurge.models import Mode, Rule, parse_request

pytestmark = pytest.mark.unit


def guard(
    planned: int,
    in_scope: int,
    *,
    max_purge: int = 100_000,
    fraction: float = 0.05,
    force: bool = False,
) -> Any:
    return evaluate_guard(
        planned=planned,
        target_entries_in_scope=in_scope,
        max_purge=max_purge,
        max_purge_fraction=fraction,
        force=force,
    )


def test_guard_passes_a_plan_within_both_limits() -> None:
    decision = guard(50, 1000)
    assert (decision.tripped, decision.forced, decision.reason) == (False, False, None)


def test_guard_trips_on_the_fraction_of_the_target_in_scope() -> None:
    decision = guard(51, 1000)
    assert decision.tripped
    assert "maxPurgeFraction" in (decision.reason or "")


def test_guard_trips_on_max_purge() -> None:
    decision = guard(11, 1_000_000, max_purge=10)
    assert decision.tripped
    assert "maxPurge 10" in (decision.reason or "")


def test_a_tripped_guard_says_what_would_let_the_plan_through() -> None:
    reason = guard(51, 1000).reason or ""
    for way in ("--max-purge", "--max-purge-fraction", "force: true", "--force"):
        assert way in reason
    assert "--force" not in (guard(51, 1000, force=True).reason or "")


def test_an_empty_source_listing_would_plan_everything_and_trips_the_guard() -> None:
    assert guard(1000, 1000).tripped


def test_force_overrides_and_is_recorded() -> None:
    decision = guard(1000, 1000, force=True)
    assert (decision.tripped, decision.forced) == (False, True)


def test_defaults_fill_an_empty_request() -> None:
    request = parse_request({})
    assert request.mode is Mode.DATASYNC
    assert set(request.rules) == set(Rule)
    assert (request.max_purge, request.max_purge_fraction) == (100_000, 0.05)
    assert request.effective_grace_minutes == 0
    assert request.scope_prefixes() == [""]


def test_replication_defaults_to_fifteen_minutes_of_grace() -> None:
    assert parse_request({"mode": "replication"}).effective_grace_minutes == 15
    assert parse_request({"mode": "replication", "graceMinutes": 0}).effective_grace_minutes == 0


def test_overlapping_prefixes_are_listed_once() -> None:
    request = parse_request({"prefixes": ["logs/2024/", "logs/", "img/", "logs/"]})
    assert request.scope_prefixes() == ["img/", "logs/"]


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        ({"prefix": ["a/"]}, "prefix: unknown field"),
        ({"dryRun": "yes"}, "dryRun"),
        ({"maxPurge": -1}, "maxPurge"),
        ({"maxPurgeFraction": 0}, "maxPurgeFraction"),
        ({"maxPurgeFraction": 1.5}, "maxPurgeFraction"),
        ({"graceMinutes": -5}, "graceMinutes"),
        ({"prefixes": ["ok/", 7]}, "prefixes[1]"),
        ({"prefixes": "logs/"}, "prefixes"),
        ({"prefixes": ["s3://bucket/logs/"]}, "prefixes[0]: 's3://bucket/logs/' is an S3 URI"),
        ({"mode": "mirror"}, "mode: 'mirror' is not one of"),
        ({"rules": ["vanished-key", "everything"]}, "rules: 'everything' is not one of"),
        ({"rules": []}, "rules"),
        ({"force": 1}, "force"),
    ],
)
def test_bad_requests_are_rejected_naming_the_field(doc: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request(doc)
    assert named in str(caught.value)


def test_cli_flag_names_replace_field_names_in_errors() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_request({"maxPurgeFraction": 2.0}, {"maxPurgeFraction": "--max-purge-fraction"})
    assert str(caught.value).startswith("--max-purge-fraction:")
