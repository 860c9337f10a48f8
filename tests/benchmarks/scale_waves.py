"""The scale model's Diff: items run in waves, and an item that lists far more than it was
planned for hands the rest of its range back, re-cut by the real `workflow.recut` on
probes of the synthetic key space (tests/benchmarks/scale_model.py)."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scale_constants import c
from scale_keyspaces import KeySpace


@dataclass
class Item:
    after: str | None
    up_to: str | None
    planned: float
    budget: int | None
    wave: int = 0


@dataclass
class Waves:
    """What the waves did: seconds, requests, and each item run's entries."""

    seconds: float = 0.0
    lists: int = 0
    probes: int = 0
    waves: int = 0
    handed_back: int = 0
    pieces: int = 0
    sizes: list[int] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    slices: int = 0
    # per wave: items, seconds (the Map's makespan), largest item's entries, mean entries,
    # and the largest item's seconds
    per_wave: list[tuple[int, float, int, float, float]] = field(default_factory=list)


def makespan(durations: list[float], slots: int) -> float:
    """Items started in order on `slots` concurrent children, each as one frees up."""
    free = [0.0] * max(1, min(slots, len(durations)))
    heapq.heapify(free)
    end = 0.0
    for duration in durations:
        start = heapq.heappop(free)
        finish = start + duration
        end = max(end, finish)
        heapq.heappush(free, finish)
    return end


def run_waves(
    space: KeySpace,
    items: list[Item],
    *,
    slots: int,
    max_items: int,
    item_seconds: Callable[[int], float],
    latency: float,
) -> Waves:
    """Run the items wave by wave as the state machine does: each wave a Map over its
    items, then Recut (one Lambda) gathers what they handed back into the next wave."""
    from syncpurge.workflow.recut import (
        RECUT_THREADS,
        Remainder,
        allot,
        cut_remainder,
        pieces_of,
    )

    out = Waves()
    wave = items
    while wave:
        out.waves += 1
        durations: list[float] = []
        remainders: list[Remainder] = []
        for item in wave:
            lo = space.count_upto(item.after) if item.after is not None else 0
            hi = space.count_upto(item.up_to)
            entries = 2 * (hi - lo)  # one entry per key, both sides
            listed, seconds, after = 0, 0.0, item.after
            budget = item.budget
            while budget is not None and entries > budget:
                # hands back after `budget` entries, between two keys
                listed = budget
                after = space.key(lo + listed // 2 - 1)
                space.requests = 0
                cuts, per_piece, settled = cut_remainder(
                    space,  # type: ignore[arg-type]
                    "target",
                    within="",
                    root="",
                    after=after,
                    up_to=item.up_to,
                    planned=item.planned,
                    wave=item.wave,
                    max_pieces=max_items,
                )
                out.probes += space.requests
                seconds += math.ceil(space.requests / RECUT_THREADS) * latency
                if cuts:
                    remainders.append(
                        Remainder(
                            item={},
                            index=len(remainders),
                            wave=item.wave,
                            after=after,
                            up_to=item.up_to,
                            cuts=cuts,
                            per_piece=per_piece,
                            item_planned=item.planned,
                            settled=settled,
                            listed=listed,
                        )
                    )
                    break
                budget = listed + (item.budget or 0)  # estimated at one piece: go on
            else:
                listed = entries
            pages = 2 * max(1, math.ceil(listed / 2 / 1000))
            out.lists += pages
            out.sizes.append(listed)
            duration = item_seconds(listed) + seconds
            out.slices += max(1, math.ceil(duration / c("sliceBudget")))
            durations.append(duration)
        out.durations.extend(durations)
        spent = makespan(durations, slots) + 10 * min(slots, len(wave)) / c("lambdaScaling")
        out.seconds += spent
        listed_now = out.sizes[-len(wave) :]
        out.per_wave.append(
            (
                len(wave),
                round(spent),
                max(listed_now),
                sum(listed_now) / len(listed_now),
                max(durations),
            )
        )
        nxt = [
            Item(p.key_range.after, p.key_range.up_to, p.planned, p.hand_back_after, r.wave + 1)
            for r, cuts in zip(remainders, allot(remainders, max_items), strict=True)
            for p in pieces_of(r, cuts)
        ]
        nxt.sort(key=lambda item: -int(item.planned))  # as Recut orders a wave
        out.handed_back += len(remainders)
        out.pieces += len(nxt)
        # Recut: one Lambda lists and reads the remainders' documents
        out.seconds += c("lambdaStart") + (1 + len(remainders) / 100) * latency
        wave = nxt
    return out


def first_wave(cuts: list[str], per_item: float, trusted: bool) -> list[Item]:
    from syncpurge.core.keyspace import ranges_between
    from syncpurge.workflow.recut import hand_back_after

    budget = hand_back_after(per_item, 0, trusted=trusted)
    return [Item(r.after, r.up_to, per_item, budget) for r in ranges_between(cuts)]


def summary(waves: Waves) -> dict[str, Any]:
    return {
        "waves": waves.waves,
        "handedBack": waves.handed_back,
        "pieces": waves.pieces,
        "recutProbes": waves.probes,
        "perWave": [
            {
                "items": items,
                "seconds": seconds,
                "largestEntries": largest,
                "largestOverMean": round(largest / mean, 2) if mean else 1.0,
                "largestSeconds": round(longest),
            }
            for items, seconds, largest, mean, longest in waves.per_wave
        ],
    }
