"""Re-cutting's bounds (docs/design.md §10): waves, the budget an item lists before handing back,
and how many pieces a wave may hold."""

from __future__ import annotations

import pytest

from syncpurge.workflow import recut
from syncpurge.workflow.recut import Remainder, allot, hand_back_after, pieces_of, planned_cap

pytestmark = pytest.mark.unit


def test_every_wave_may_hand_back_and_no_budget_is_below_the_first_waves() -> None:
    # Given any wave, however late (no fixed number of waves a layout could exhaust)
    for wave in (0, 1, 3, 4, 10, 40):
        # Then an untrusted plan hands back, after no fewer entries than the first wave's
        # cap allows (so every hand-back follows at least that much listing: the waves end)
        budget = hand_back_after(1_000, wave)
        assert budget is not None
        assert budget >= int(recut.OVERRUN * recut.FIRST_WAVE_PLANNED)
    # And a trusted plan hands back only past OVERRUN x its plan, in any wave
    assert hand_back_after(625_000, 40, trusted=True) == int(recut.OVERRUN * 625_000)


def test_an_estimate_is_capped_per_wave_unless_trusted() -> None:
    # Given a first run's estimate of 10^10 entries an item (its probes ran out of budget)
    # Then it hands back after OVERRUN x the first wave's cap, and later waves allow more
    assert hand_back_after(1e10, 0) == int(recut.OVERRUN * planned_cap(0))
    assert planned_cap(1) == recut.WAVE_GROWTH * planned_cap(0)
    # And a trusted plan (recorded counts, settled probes) hands back only past OVERRUN x
    assert hand_back_after(625_000, 0, trusted=True) == int(recut.OVERRUN * 625_000)
    assert hand_back_after(625_000, 0) == int(recut.OVERRUN * planned_cap(0))


def remainder(index: int, cuts: list[str], per_piece: float) -> Remainder:
    return Remainder(
        item={},
        index=index,
        wave=0,
        after=f"{index}",
        up_to=f"{index}~",
        cuts=cuts,
        per_piece=per_piece,
        listed=0,
    )


def test_a_wave_holds_at_most_max_items_each_remainder_at_least_one_piece() -> None:
    # Given three remainders wanting 100, 10 and 1 pieces, and room for 20 items
    rests = [
        remainder(1, [f"1{i:03d}" for i in range(99)], 1_000.0),
        remainder(2, [f"2{i:03d}" for i in range(9)], 1_000.0),
        remainder(3, [], 1_000.0),
    ]
    shares = allot(rests, 20)

    # Then the pieces fit, each keeps one at least, in proportion to its estimate
    pieces = [len(cuts) + 1 for cuts in shares]
    assert sum(pieces) <= 20
    assert pieces[2] == 1
    assert pieces[0] > pieces[1] >= 1
    # And the kept cuts are the remainder's own, in order: the pieces still cover it
    for rest, cuts in zip(rests, shares, strict=True):
        assert cuts == sorted(cuts)
        assert set(cuts) <= set(rest.cuts)


def test_a_wave_that_fits_keeps_every_cut() -> None:
    rests = [remainder(1, ["1a", "1b"], 10.0), remainder(2, ["2a"], 10.0)]
    assert allot(rests, 5) == [["1a", "1b"], ["2a"]]


def test_a_piece_hands_back_no_sooner_than_the_item_it_came_from() -> None:
    # Given an item planned at 100,000 entries whose remainder the probes put at two
    # pieces of 10,000 (an estimate no surer than the one the item disproved)
    rest = remainder(1, ["1m"], 10_000.0).model_copy(update={"item_planned": 100_000.0})

    pieces = pieces_of(rest, rest.cuts)

    # Then each piece keeps its own estimate for ordering, but lists as long as the item
    # did before handing back, so a small estimate does not breed ever smaller pieces
    assert [piece.planned for piece in pieces] == [10_000.0, 10_000.0]
    assert {piece.hand_back_after for piece in pieces} == {hand_back_after(100_000, 1)}
    # And the next wave's cap still bounds an item whose plan was far larger
    huge = rest.model_copy(update={"item_planned": 1e10})
    assert {p.hand_back_after for p in pieces_of(huge, huge.cuts)} == {hand_back_after(1e10, 1)}
    assert hand_back_after(1e10, 1) == int(recut.OVERRUN * planned_cap(1))
    # And the pieces still cover the remainder exactly
    assert [(p.key_range.after, p.key_range.up_to) for p in pieces] == [
        ("1", "1m"),
        ("1m", "1~"),
    ]
