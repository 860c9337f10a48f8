"""First-run cuts by probes (docs/design.md §10): single-page listings that start at a KeyMarker.

Pure: no I/O. Each probe tells exactly which keys, with how many entries, follow its point,
and that nothing lies between the point and the first of them. Keys are mapped to integer
positions (`syncpurge.core.keyspace.KeyPositions`: a mixed-radix number over the characters seen
at each place, so that `data/000123.bin` and `data/000124.bin` sit one step apart); between
probes the entry density is interpolated from the neighbouring pages, and the next probe
goes to the middle of the gap holding the most estimated entries, which is bisection of
the key space weighted by what is there.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

from syncpurge.core.keyspace import (
    DEPTH,
    KeyPositions,
    clamp_key,
    increasing,
    note_places,
    shared_prefix,
)


@dataclass(frozen=True, slots=True)
class Probe:
    """One page listed after `after` (None: from the start of the prefix): its keys in
    order with their entry counts, and whether more followed."""

    after: str | None
    keys: tuple[tuple[str, int], ...]
    truncated: bool


@dataclass(slots=True)
class _Span:
    """A stretch of positions: known (from probes: `probes` lists the pages whose keys
    it holds, none when known empty) or a gap whose mass is estimated."""

    start: int
    end: int
    known: bool
    probes: list[Probe] = field(default_factory=list)
    mass: float = 0.0
    first: str | None = None  # a known span's first and last listed keys
    last: str | None = None
    after: str | None = None  # a gap: the key it starts after
    sure: bool = True  # a gap: whether its estimated mass is trusted
    open_end: bool = False  # a gap with no listed keys after it


class ProbeSplitter:
    """Cuts a prefix's key space by probes; feed it pages, ask where to probe next."""

    def __init__(
        self,
        prefix: str,
        folders: Sequence[str] = (),
        only: bool = False,
        *,
        after: str | None = None,
        up_to: str | None = None,
    ) -> None:
        """`folders`: folders known to exist under the prefix (their characters shape
        positions); `only`: a delimiter listing showed nothing else, so no key lies
        between them, before the first or after the last. `after` / `up_to` (keys under
        the prefix): only the keys k with after < k <= up_to count (a re-cut remainder)."""
        # Every key between two bounds starts with what the bounds share: positions
        # resolve the characters past it (a remainder deep inside one long folder name).
        if after is not None and up_to is not None:
            prefix = max(prefix, shared_prefix(after, up_to), key=len)
        self.prefix = prefix
        self.folders = list(folders) if only else []
        self.after, self.up_to = after, up_to
        self.probes: list[Probe] = []
        self._seen: list[set[str]] = [set() for _ in range(DEPTH)]
        note_places(self._seen, folders, len(prefix))
        note_places(self._seen, (k for k in (after, up_to) if k is not None), len(prefix))
        self._where: KeyPositions | None = None
        self._spans: list[_Span] | None = None

    def add(self, probe: Probe) -> None:
        if self.after is not None or self.up_to is not None:
            # Keys past the bounds are not this splitter's; one past `up_to` ends the range.
            past = self.up_to is not None and bool(probe.keys) and probe.keys[-1][0] > self.up_to
            probe = Probe(probe.after, self._keys_in_bounds(probe), probe.truncated and not past)
        self.probes.append(probe)
        note_places(
            self._seen,
            (probe.keys[0][0], probe.keys[-1][0]) if probe.keys else (),
            len(self.prefix),
        )
        note_places(
            self._seen,
            (k for k, _ in probe.keys[:: max(1, len(probe.keys) // 32)]),
            len(self.prefix),
        )
        self._where = self._spans = None

    def positions(self) -> KeyPositions:
        if self._where is None:
            self._where = KeyPositions(self._seen, self.prefix)
        return self._where

    def spans(self) -> list[_Span]:
        """Known stretches from the probes, and estimated gaps between them, in order."""
        if self._spans is None:
            self._spans = self._build()
        return self._spans

    def _build(self) -> list[_Span]:
        where = self.positions()
        known: list[_Span] = []
        for probe in self.probes:
            start = where.position(probe.after) + 1 if probe.after is not None else 0
            if not probe.keys:
                known.append(_Span(start, where.span, True, after=probe.after))
                continue
            first_key, last_key = probe.keys[0][0], probe.keys[-1][0]
            first, last = where.position(first_key), where.position(last_key)
            if first > start:  # nothing lies between the probe's point and its first key
                known.append(_Span(start, first, True, after=probe.after))
            known.append(_Span(first, last + 1, True, [probe], first=first_key, last=last_key))
            if not probe.truncated and last + 1 < where.span:
                known.append(_Span(last + 1, where.span, True, after=last_key))
        known.extend(self._between_folders(where))
        known.extend(self._outside_bounds(where))
        known.sort(key=lambda s: (s.start, -s.end))
        merged: list[_Span] = []
        for span in known:
            if merged and span.start < merged[-1].end:
                into = merged[-1]
                if span.probes:
                    into.probes += span.probes
                    into.first = min(filter(None, (into.first, span.first)))
                    into.last = max(filter(None, (into.last, span.last)))
                into.end = max(into.end, span.end)
            else:
                merged.append(span)
        for span in merged:
            span.mass = float(sum(n for _, n in _keys_of(span)))
        listed = [s for s in merged if s.probes]
        out: list[_Span] = []
        for i, span in enumerate(merged):
            if i and span.start > merged[i - 1].end:
                out.append(self._gap(merged[i - 1], span, listed, where))
            out.append(span)
        if merged and merged[-1].end < where.span:
            out.append(self._gap(merged[-1], None, listed, where))
        return out

    def _between_folders(self, where: KeyPositions) -> list[_Span]:
        """Known-empty stretches: before the first folder, between two, after the last."""
        empty: list[_Span] = []
        start, after = 0, None
        for folder in self.folders:
            begin = where.position(folder)
            if begin > start:
                empty.append(_Span(start, begin, True, after=after))
            # the first key past every key in the folder
            start = max(start, where.position(folder[:-1] + chr(ord(folder[-1]) + 1)))
            after = folder
        if self.folders and start < where.span:
            empty.append(_Span(start, where.span, True, after=after))
        return empty

    def _outside_bounds(self, where: KeyPositions) -> list[_Span]:
        """Known-empty stretches: up to `after` (inclusive) and past `up_to`."""
        empty: list[_Span] = []
        if self.after is not None:
            empty.append(_Span(0, where.position(self.after) + 1, True))
        if self.up_to is not None and where.position(self.up_to) + 1 < where.span:
            empty.append(_Span(where.position(self.up_to) + 1, where.span, True))
        return empty

    def _keys_in_bounds(self, probe: Probe) -> tuple[tuple[str, int], ...]:
        low, high = self.after, self.up_to
        return tuple(
            (key, n)
            for key, n in probe.keys
            if (low is None or key > low) and (high is None or key <= high)
        )

    @staticmethod
    def _density(span: _Span | None, where: KeyPositions) -> float | None:
        """Entries per position over the listed keys' own extent."""
        if span is None or span.first is None or span.last is None:
            return None
        width = where.position(span.last) - where.position(span.first) + 1
        return span.mass / max(1, width)

    def _gap(
        self, left: _Span, right: _Span | None, listed: list[_Span], where: KeyPositions
    ) -> _Span:
        """The stretch between two known ones; its density is the nearest listed pages'
        on either side (one side only: unsure)."""
        end = right.start if right is not None else where.span
        at = bisect.bisect_left([s.start for s in listed], left.end)
        before = listed[at - 1] if at else None
        after = listed[at] if at < len(listed) and right is not None else None
        densities = [
            d for d in (self._density(before, where), self._density(after, where)) if d is not None
        ]
        gap = _Span(left.end, end, False, after=left.last if left.last else left.after)
        gap.open_end = after is None
        density = sum(densities) / len(densities) if densities else 0.0
        gap.mass = density * (end - left.end)
        # Two neighbours that agree make the estimate trustworthy; otherwise probe it.
        gap.sure = len(densities) == 2 and max(densities) <= 1.5 * min(densities)
        return gap

    def total(self) -> float:
        return sum(s.mass for s in self.spans())

    def next_probes(self, item_entries: float, count: int = 1) -> list[str]:
        """Where the next probes should start (KeyMarkers), at most `count`, in the gaps
        with the most doubtful mass; none once no gap's doubt reaches half an item. (An
        unsure gap's whole mass is doubtful; a sure one's, a quarter.)

        A gap with listed keys on both sides is bisected. One with none after it (the
        key space's end is not found yet) is galloped into: the next probe doubles the
        stretch already known, so a small prefix is bounded in a few probes.
        """
        where = self.positions()
        spans = self.spans()
        listed = [s for s in spans if s.known and s.first is not None]
        origin = where.position(listed[0].first) if listed and listed[0].first else 0
        done = {p.after for p in self.probes}
        points: list[str] = []
        gaps = [s for s in spans if not s.known and s.end - s.start > 1]
        for gap in sorted(gaps, key=lambda g: -_doubt(g)):
            if _doubt(gap) < item_entries / 2 or len(points) >= count:
                break
            middle = (gap.start + gap.end) // 2
            if gap.open_end:
                middle = min(middle, gap.start + max(1, gap.start - origin))
            point = clamp_key(where.key_at(middle))
            if point not in done and (gap.after is None or point > gap.after):
                points.append(point)
                done.add(point)
        return points

    def settled(self, item_entries: float) -> bool:
        """Whether no gap is left in doubt at this item size (probes would stop here)."""
        return not self.next_probes(item_entries, 1)

    def boundaries(self, items: int) -> list[str]:
        """Up to items - 1 keys cutting the estimated mass into equal parts."""
        spans = self.spans()
        total = sum(s.mass for s in spans)
        if items <= 1 or total <= 0:
            return []
        where = self.positions()
        cuts: list[str] = []
        step = total / items
        target = step
        done = 0.0
        for span in spans:
            if span.known:
                if done + span.mass < target:
                    done += span.mass
                    continue
                for key, n in _keys_of(span):
                    done += n
                    while done >= target and len(cuts) < items - 1:
                        cuts.append(key)
                        target += step
            else:
                while done + span.mass >= target and len(cuts) < items - 1 and span.mass > 0:
                    share = (target - done) / span.mass
                    cuts.append(where.key_at(span.start + int(share * (span.end - span.start))))
                    target += step
                done += span.mass
        return increasing(cuts)


def _doubt(gap: _Span) -> float:
    return gap.mass if not gap.sure else gap.mass / 4


def _keys_of(span: _Span) -> list[tuple[str, int]]:
    """A known span's listed keys in order, each once (probes may overlap)."""
    if len(span.probes) == 1:
        return list(span.probes[0].keys)
    counts: dict[str, int] = {}
    for probe in span.probes:
        for key, n in probe.keys:
            counts.setdefault(key, n)
    return sorted(counts.items())
