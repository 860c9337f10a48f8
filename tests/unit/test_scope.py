"""docs/design.md §3.1 scope and §7 request limits: what a run may touch, and what it refuses."""

from __future__ import annotations

import pytest

from syncpurge.core.scope import Scope
from syncpurge.errors import InvalidInput, PreflightRefused
from syncpurge.models import parse_request

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("prefix", "named"),
    [
        ("a|b/", "prefixes[0]: 'a|b/' contains '|'"),
        ("2024*x/", "prefixes[0]: '2024*x/' contains '*'"),
        ("/logs/", "prefixes[0]: '/logs/' starts with '/'"),
        ("", "prefixes[0]: an empty prefix is not allowed"),
    ],
)
def test_prefixes_datasync_filters_cannot_express_are_refused(prefix: str, named: str) -> None:
    # Defect 6: each of these used to be accepted (and '' meant the whole bucket).
    with pytest.raises(InvalidInput) as refused:
        parse_request({"prefixes": [prefix]})
    assert named in str(refused.value)


def test_grace_minutes_over_a_year_is_refused() -> None:
    with pytest.raises(InvalidInput, match="graceMinutes"):
        parse_request({"graceMinutes": 525_601})
    assert parse_request({"graceMinutes": 525_600}).grace_minutes == 525_600


def test_scope_maps_keys_between_differing_subdirectories() -> None:
    scope = Scope(source_root="data/", target_root="backup/data/")
    assert scope.source_key("x/y") == "data/x/y"
    assert scope.target_key("x/y") == "backup/data/x/y"


def test_includes_and_excludes_narrow_the_scope_like_datasync_filters() -> None:
    scope = Scope(includes=("/logs*", "/img"), excludes=("*.tmp", "/logs/private"))
    assert scope.admits("logs/2024/a.txt")
    assert scope.admits("logs-old/a")
    assert scope.admits("img/cat.png")
    assert not scope.admits("images/cat.png")
    assert not scope.admits("logs/x.tmp")
    assert not scope.admits("logs/private/key")
    assert not scope.admits("other/file")


def test_report_destination_and_workspace_in_the_target_are_never_in_scope() -> None:
    scope = Scope(target_root="data/", excluded_target_prefixes=("data/reports/", "elsewhere/"))
    assert scope.excluded_relative == ("reports/",)
    assert not scope.admits("reports/run/summary.json")
    assert scope.admits("reports.txt")


def test_a_report_destination_covering_the_whole_scope_is_refused() -> None:
    with pytest.raises(PreflightRefused, match="never purged"):
        Scope(target_root="data/", excluded_target_prefixes=("",)).check()


def test_request_prefixes_outside_the_task_filters_are_refused() -> None:
    scope = Scope(includes=("/logs",), excludes=("/logs/private",))
    scope.check_prefix("logs/2024/")
    with pytest.raises(InvalidInput, match="outside the DataSync task's Includes"):
        scope.check_prefix("img/")
    with pytest.raises(InvalidInput, match="excluded by the DataSync task's Excludes"):
        scope.check_prefix("logs/private/")
