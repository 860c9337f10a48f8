"""The scope of a run (docs/design.md §3.1): the part of the target the copy owns, key by key.

A target key `<target_root>rel` mirrors the source key `<source_root>rel`. The scope is
narrowed by the DataSync task's Includes, minus its Excludes, and never holds the report
destination, the run workspace or DataSync's own report folder when those lie in the
target. The diff and the purge only ever see relative keys this scope admits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from syncpurge.errors import InvalidInput, PreflightRefused


def split_patterns(filters: Iterable[dict[str, str]] | None) -> tuple[str, ...]:
    """DataSync FilterRules ({'FilterType': 'SIMPLE_PATTERN', 'Value': 'a|b'}) as patterns."""
    patterns: list[str] = []
    for rule in filters or ():
        patterns.extend(p for p in str(rule.get("Value", "")).split("|") if p)
    return tuple(patterns)


def _compile(pattern: str) -> re.Pattern[str]:
    # SIMPLE_PATTERN: '*' is the only wildcard; everything else is literal.
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)


def _matches(patterns: tuple[re.Pattern[str], ...], path: str) -> bool:
    """A pattern matches a path, or one of the folders above it ('/logs' covers '/logs/x')."""
    candidates = [path]
    at = path.find("/", 1)
    while at != -1:
        candidates.append(path[:at])
        at = path.find("/", at + 1)
    return any(p.fullmatch(c) for p in patterns for c in candidates)


@dataclass(frozen=True)
class Scope:
    source_root: str = ""  # "" or "dir/": the source location's Subdirectory
    target_root: str = ""  # the target location's Subdirectory
    includes: tuple[str, ...] = ()  # DataSync patterns, relative to the roots ("/logs*")
    excludes: tuple[str, ...] = ()
    # Absolute target-key prefixes never in scope (report destination, workspace, DataSync
    # task reports); kept as given, for the report.
    excluded_target_prefixes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------------ mapping

    def source_key(self, rel: str) -> str:
        return self.source_root + rel

    def target_key(self, rel: str) -> str:
        return self.target_root + rel

    @cached_property
    def _includes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_compile(p) for p in self.includes)

    @cached_property
    def _excludes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_compile(p) for p in self.excludes)

    @cached_property
    def excluded_relative(self) -> tuple[str, ...]:
        """The excluded target prefixes that fall inside the target root, made relative."""
        inside = []
        for prefix in self.excluded_target_prefixes:
            if prefix.startswith(self.target_root):
                inside.append(prefix[len(self.target_root) :])
        return tuple(sorted(set(inside)))

    @cached_property
    def filters_anything(self) -> bool:
        return bool(self.includes or self.excludes or self.excluded_relative)

    def admits(self, rel: str) -> bool:
        """Whether the relative key `rel` is in scope on both sides."""
        if not self.filters_anything:
            return True
        if any(rel.startswith(prefix) for prefix in self.excluded_relative):
            return False
        path = "/" + rel
        if self._includes and not _matches(self._includes, path):
            return False
        return not (self._excludes and _matches(self._excludes, path))

    # ------------------------------------------------------------------ checks

    def check(self) -> None:
        """Refuse a scope that holds nothing: an exclusion covering the whole target root."""
        for prefix in self.excluded_target_prefixes:
            if self.target_root.startswith(prefix):
                raise PreflightRefused(
                    f"the scope s3://…/{self.target_root} lies inside {prefix!r}, which is "
                    "never purged (report destination, workspace or DataSync reports): "
                    "choose a report destination outside the target's scope"
                )

    def check_prefix(self, prefix: str, field_name: str = "prefixes") -> None:
        """A request prefix must name a part of the scope (docs/design.md §3.1)."""
        if any(prefix.startswith(excluded) for excluded in self.excluded_relative):
            raise InvalidInput(
                f"{field_name}: {prefix!r} lies in the report destination or workspace, "
                "which is never in scope"
            )
        path = "/" + prefix
        if self._includes and not (
            _matches(self._includes, path) or any(p.startswith(path) for p in self.includes)
        ):
            raise InvalidInput(
                f"{field_name}: {prefix!r} is outside the DataSync task's Includes "
                f"({'|'.join(self.includes)})"
            )
        if self._excludes and _matches(self._excludes, path.rstrip("/") or "/"):
            raise InvalidInput(
                f"{field_name}: {prefix!r} is excluded by the DataSync task's Excludes "
                f"({'|'.join(self.excludes)})"
            )

    def describe(self) -> dict[str, Any]:
        """The scope as the report states it."""
        return {
            "sourceRoot": self.source_root,
            "targetRoot": self.target_root,
            "includes": list(self.includes),
            "excludes": list(self.excludes),
            "excludedTargetPrefixes": list(self.excluded_target_prefixes),
        }

    @classmethod
    def from_description(cls, doc: dict[str, Any]) -> Scope:
        return cls(
            source_root=doc.get("sourceRoot", ""),
            target_root=doc.get("targetRoot", ""),
            includes=tuple(doc.get("includes", ())),
            excludes=tuple(doc.get("excludes", ())),
            excluded_target_prefixes=tuple(doc.get("excludedTargetPrefixes", ())),
        )
