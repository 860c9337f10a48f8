"""A stored plan's re-check only shrinks it (issue 30): whatever the fresh listings say,
it purges no entry the plan did not plan, so applying a reviewed plan can go unguarded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncpurge.core.guard import evaluate_guard
from syncpurge.errors import InvalidInput
from syncpurge.models import Entry, PlannedEntry, Proof, Rule, SkipReason
from syncpurge.phases.apply import recheck

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = ["a", "b", "c"]
VERSIONS = ["v1", "v2", "v3", "v4"]


def planned(key: str, version: str, purge: bool) -> PlannedEntry:
    skip = None if purge else SkipReason.GRACE
    proof = Proof.VANISHED if purge else None
    return PlannedEntry(
        Entry(key, version, False, T0, False, 1, '"e"'), Rule.VANISHED_KEY, "", skip, None, proof
    )


lines = st.dictionaries(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(VERSIONS)), st.booleans(), max_size=8
)


@given(stored=lines, fresh=lines, out_of_scope=st.sets(st.sampled_from(KEYS)))
def test_a_recheck_never_purges_an_entry_the_stored_plan_did_not_plan(
    stored: dict[tuple[str, str], bool],
    fresh: dict[tuple[str, str], bool],
    out_of_scope: set[str],
) -> None:
    # Given any stored plan, and fresh listings that plan any entries (more, fewer, others)
    plan = [planned(k, v, purge) for (k, v), purge in sorted(stored.items())]

    def fresh_for_key(key: str) -> list[PlannedEntry]:
        return [planned(k, v, purge) for (k, v), purge in fresh.items() if k == key]

    kept = list(recheck(plan, fresh_for_key, lambda key: key not in out_of_scope))

    # Then it gives one line per stored line, and purges only what the plan planned
    ids = [(p.entry.key, p.entry.version_id) for p in kept]
    assert ids == [(p.entry.key, p.entry.version_id) for p in plan]
    purged = {(p.entry.key, p.entry.version_id) for p in kept if p.to_purge}
    assert purged <= {entry for entry, purge in stored.items() if purge}
    assert sum(p.to_purge for p in kept) <= sum(p.to_purge for p in plan)


def test_an_applied_plans_guard_is_its_own_and_refuses_to_grow() -> None:
    from syncpurge.core.guard import applied_plan_guard

    reviewed = evaluate_guard(
        planned=425,
        target_entries_in_scope=8000,
        max_purge=100,
        max_purge_fraction=0.05,
        force=False,
    )
    assert reviewed.tripped

    applied = applied_plan_guard(reviewed, rechecked=400, plan_run="R1")

    assert not applied.tripped
    assert not applied.forced
    assert (applied.planned, applied.target_entries_in_scope, applied.max_purge) == (425, 8000, 100)
    with pytest.raises(InvalidInput, match="426 entries to purge, more than the 425"):
        applied_plan_guard(reviewed, rechecked=426, plan_run="R1")
