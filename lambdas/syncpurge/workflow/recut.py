"""Re-cut: a Diff item that lists far more than it was planned for hands the rest of its
range back, cut into pieces, and the pieces run as the Diff Map's next wave (docs/design.md §10).

No estimate is trusted, so every item may overrun, in any wave: an item splits the rest
of its range whenever it finds itself large, as often as the work stays uneven (Dataflow's
dynamic work rebalancing, in waves). The bounds:

- **Waves.** None is the last. Every piece's hand-back follows at least OVERRUN x
  FIRST_WAVE_PLANNED entries of listing (a piece is never trusted, and its budget has
  that floor), so the waves end: at most the scope's entries over that floor, far more
  than any layout measured needs (docs/scale.md);
  the state machine's Recut then finds nothing and goes on to Guard.
- **Items.** A wave holds at most as many items as Plan may cut (`max_items`): when the
  remainders' pieces are more, each remainder keeps a share in proportion to its
  estimate, at least one piece.
- **Keys.** An item hands back only between two keys (its cursor is never inside one),
  after every key up to the cursor is diffed and planned; the remainder (cursor, upTo] is
  cut into consecutive ranges that cover it exactly. So every key is diffed once, by one
  item, and none outside the item's range (invariants 5 and 7), whatever the cuts.
- **Where it splits.** On what the run has read of the remainder alone: probes inside it
  (single pages from KeyMarkers), placed by positions that resolve the characters past
  what its two ends share (a remainder deep in one long folder name is told apart), and
  cut into as many pieces as its estimate holds of MIN_PIECE_SIDE entries a side, for
  the idle children of the next wave.
- **Time.** An item lists at most `OVERRUN` x its planned entries before handing back,
  and a wave's plan is capped at `FIRST_WAVE_PLANNED` x `WAVE_GROWTH`^wave: a first
  run's mis-estimated item costs its wave a bounded stretch, and each wave re-cuts on
  fresh probes of the remainder alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from syncpurge.core.keyspace import MAX_KEY_BYTES, KeyRange, cuts_within, ranges_between
from syncpurge.core.probes import ProbeSplitter
from syncpurge.data.s3store import S3Store
from syncpurge.phases.cutting import FIRST_RUN_TARGET_ENTRIES, probe_until_even, prober
from syncpurge.workflow.context import RunContext, Stores, Wire, all_json, put_json

OVERRUN = 2.0
# The most entries (both sides) an item of wave w is planned at, whatever its estimate:
# FIRST_WAVE_PLANNED x WAVE_GROWTH^w. A first run's estimate may be wrong by orders of
# magnitude; the cap makes an item hand back early, and each wave allows larger items.
FIRST_WAVE_PLANNED = 2 * FIRST_RUN_TARGET_ENTRIES
WAVE_GROWTH = 2
# Probes a re-cut may spend on its remainder: one per piece and a few, at most this, this
# many at a time (the listing has stopped: the S3 client's pool of 32 is free).
RECUT_MAX_PROBES = 1_024
RECUT_THREADS = 32
# A remainder is cut into as many pieces as its estimate holds of this many entries a side
# (at most the wave's items, and Recut thins them to its share): pieces for the idle
# children of the next wave, not only the few its estimate would ask for. Each piece's
# partial last pages cost ~2 LISTs (~7 % of a piece of 16 pages a side; Recut thins a
# full wave's pieces, and at 10^9 entries first runs stay within 1.05x the LIST floor:
# docs/scale.md).
MIN_PIECE_SIDE = 16_000
# ... at most this many (a remainder's document lists its cuts; Recut reads them all).
MAX_REMAINDER_PIECES = 1_024


def planned_cap(wave: int) -> int:
    return int(FIRST_WAVE_PLANNED * WAVE_GROWTH**wave)


def hand_back_after(planned: float, wave: int, *, trusted: bool = False) -> int:
    """Entries (both sides) an item of `wave` planned at `planned` lists before it hands
    the rest of its range back, in any wave (none is the last). A `trusted` plan (cut
    on recorded counts, or on probes that settled) is not capped: only an item that
    proves far larger hands back. An untrusted one lists at least OVERRUN x the first
    wave's cap, however small its piece was estimated: a piece estimated small that
    hands back early would only breed smaller pieces."""
    planned = max(planned, 1.0)
    if trusted:
        return math.ceil(OVERRUN * planned)
    return math.ceil(OVERRUN * max(FIRST_WAVE_PLANNED, min(planned, planned_cap(wave))))


class Remainder(Wire):
    """What an item that handed back leaves for the next wave: the range past its cursor,
    cut into pieces (`cuts`, relative keys), each estimated at `per_piece` entries."""

    item: dict[str, Any]  # the work item that handed back, as its wave ran it
    index: int
    wave: int
    after: str | None = None
    up_to: str | None = None
    cuts: list[str]
    per_piece: float
    item_planned: float = 0.0  # what the item was planned at when it handed back
    settled: bool = False
    listed: int


def remainder_name(wave: int, index: int) -> str:
    return f"recuts/{wave:02d}/{index:05d}.json"


def cut_remainder(
    store: S3Store,
    bucket: str,
    *,
    within: str,
    root: str,
    after: str | None,
    up_to: str | None,
    planned: float,
    wave: int,
    max_pieces: int,
    key_limit: int = MAX_KEY_BYTES,
) -> tuple[list[str], float, bool]:
    """Probe the target over (after, up_to] alone (relative keys; `within`: the item's
    prefix in the bucket, under the scope's `root`) and cut it into pieces of about the
    size the next wave plans, or finer where its estimate holds more pieces of
    MIN_PIECE_SIDE entries a side: relative cuts strictly inside the range, and the estimated
    entries (both sides) per piece, and whether that estimate is trusted (never: the
    next wave caps its pieces). Cuts fit `key_limit` bytes (`phases.cutting.relative_key_limit`)."""
    lower = root + after if after is not None else None
    upper = root + up_to if up_to is not None else None
    splitter = ProbeSplitter(within, after=lower, up_to=upper)
    probe = prober(store, bucket)
    splitter.add(probe(lower, within))
    per_side = min(max(planned, 1.0), planned_cap(wave + 1)) / 2
    # At least two: an item that overran was mis-estimated once already, so the estimate
    # of its rest is not trusted to keep it whole (each hand-back at least halves it).
    pieces = probe_until_even(
        splitter,
        probe,
        within,
        per_side,
        max_pieces,
        max_probes=RECUT_MAX_PROBES,
        threads=RECUT_THREADS,
    )
    fine = min(max_pieces, MAX_REMAINDER_PIECES, int(splitter.total() / MIN_PIECE_SIDE))
    cuts = [key[len(root) :] for key in splitter.boundaries(max(2, pieces, fine))]
    inside = [
        cut
        for cut in cuts_within(cuts, key_limit)
        if (after is None or cut > after) and (up_to is None or cut < up_to)
    ]
    return inside, 2 * splitter.total() / (len(inside) + 1), False


def write_remainder(stores: Stores, run: RunContext, remainder: Remainder) -> None:
    name = remainder_name(remainder.wave, remainder.index)
    put_json(stores, run.workspace, name, remainder.to_state())


def wave_remainders(stores: Stores, run: RunContext, wave: int) -> list[Remainder]:
    docs = all_json(stores, run.workspace, f"recuts/{wave:02d}/")
    return sorted((Remainder.model_validate(doc) for doc in docs), key=lambda r: r.index)


def allot(remainders: list[Remainder], max_items: int) -> list[list[str]]:
    """Each remainder's cuts, thinned so that all the pieces together are at most
    `max_items` (a share in proportion to the estimate, at least one piece each)."""
    wanted = [len(r.cuts) + 1 for r in remainders]
    if sum(wanted) <= max_items:
        return [list(r.cuts) for r in remainders]
    mass = [r.per_piece * n for r, n in zip(remainders, wanted, strict=True)]
    total = sum(mass) or 1.0
    spare = max(0, max_items - len(remainders))
    out: list[list[str]] = []
    for r, n, m in zip(remainders, wanted, mass, strict=True):
        share = min(n, 1 + int(spare * m / total))
        # every k-th cut: `share` pieces of about equal estimate
        out.append([r.cuts[(i * n) // share - 1] for i in range(1, share)])
    return out


@dataclass(frozen=True, slots=True)
class Piece:
    """One range of the next wave, with the entries it is planned at and its budget."""

    key_range: KeyRange
    planned: float
    hand_back_after: int | None


def pieces_of(remainder: Remainder, cuts: list[str]) -> list[Piece]:
    """The remainder cut at `cuts` (its own, maybe thinned by `allot`): consecutive ranges
    covering (after, upTo] exactly, each planned at its share of the estimate.

    A piece's budget is reckoned on no less than its item's plan: the remainder's estimate
    is no surer than the one the item disproved, and a piece that hands back sooner than
    its item would only breed smaller pieces, each a Lambda start and a partial page
    more, while its wave waits on items of the item's size anyway. The wave's cap still
    bounds it."""
    planned = remainder.per_piece * (len(remainder.cuts) + 1) / (len(cuts) + 1)
    wave = remainder.wave + 1
    reckoned = max(planned, remainder.item_planned)
    budget = hand_back_after(reckoned, wave, trusted=remainder.settled)
    rest = KeyRange(remainder.after, remainder.up_to)
    return [Piece(part, planned, budget) for part in ranges_between(cuts, rest)]


def record_wave(stores: Stores, run: RunContext, wave: int, handed_back: int, pieces: int) -> None:
    doc = {"wave": wave, "handedBack": handed_back, "pieces": pieces}
    put_json(stores, run.workspace, f"waves/{wave:02d}.json", doc)


def recut_summary(stores: Stores, run: RunContext) -> dict[str, int]:
    """How many items handed back, into how many pieces, and how many waves the Diff ran."""
    docs = all_json(stores, run.workspace, "waves/")
    ran = [d for d in docs if d["handedBack"]]
    return {
        "items": sum(int(d["handedBack"]) for d in docs),
        "pieces": sum(int(d["pieces"]) for d in docs),
        "waves": 1 + len(ran),
    }
