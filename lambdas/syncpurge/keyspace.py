"""Key ranges: how Plan cuts one key space into balanced Diff work items (DESIGN §10).

Pure: no I/O. A work item is a range (after, upTo] of relative keys. Its boundaries come
from one of two places:

- **Recorded samples** (`split_by_samples`): the last run's Diff items noted a key every
  so many entries, with the entries since the previous note. Cutting at equal
  cumulative weight gives near-perfect balance.
- **Probes** (`ProbeSplitter`), on a first run: single-page listings that start at a
  KeyMarker. Each tells exactly which keys, with how many entries, follow its point, and
  that nothing lies between the point and the first of them. Keys are mapped to integer
  positions (a mixed-radix number over the characters seen at each place, so that
  `data/000123.bin` and `data/000124.bin` sit one step apart); between probes the entry
  density is interpolated from the neighbouring pages, and the next probe goes to the
  middle of the gap holding the most estimated entries, which is bisection of the key
  space weighted by what is there.
"""

from __future__ import annotations

import bisect
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DEPTH = 16  # characters after the prefix that positions resolve
# S3: "The key name must not exceed 1,024 bytes" (UTF-8), and a KeyMarker names a key.
MAX_KEY_BYTES = 1024


def clamp_key(key: str, limit: int = MAX_KEY_BYTES) -> str:
    """The longest prefix of `key` within `limit` UTF-8 bytes. It sorts no later than the
    key (byte order is code point order), so as a boundary or a KeyMarker it only moves a
    cut earlier: a point built of a long common prefix and a character per place from
    different keys (or a folder plus U+10FFFF) never becomes a marker S3 can't take."""
    data = key.encode("utf-8")
    if len(data) <= limit:
        return key
    return data[: max(0, limit)].decode("utf-8", errors="ignore")


def cuts_within(cuts: Iterable[str], limit: int = MAX_KEY_BYTES) -> list[str]:
    """Boundaries clamped to `limit` bytes, still strictly increasing."""
    return _increasing(clamp_key(cut, limit) for cut in cuts)


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Relative keys k with after < k <= up_to (None: unbounded on that side)."""

    after: str | None = None
    up_to: str | None = None

    def holds(self, key: str) -> bool:
        return (self.after is None or key > self.after) and (
            self.up_to is None or key <= self.up_to
        )


def ranges_between(boundaries: Sequence[str]) -> list[KeyRange]:
    """The ranges that strictly increasing `boundaries` cut the whole key space into."""
    edges: list[str | None] = [None, *boundaries, None]
    return [KeyRange(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]


_HEX_LOWER, _HEX_UPPER = set("abcdef"), set("ABCDEF")


def _widened(seen: set[str], hex_lower: bool, hex_upper: bool) -> list[str]:
    """The characters one place of a key may hold, from those seen there: a digit stands
    for all ten (and for a-f / A-F too where the keys look hexadecimal); a letter for its
    whole alphabet, or a-f / A-F in hexadecimal keys."""
    wide = set(seen)
    if seen & set(string.digits):
        wide.update(string.digits)
        if hex_lower:
            wide.update(_HEX_LOWER)
        if hex_upper:
            wide.update(_HEX_UPPER)
    for letters, hex_set, is_hex in (
        (set(string.ascii_lowercase), _HEX_LOWER, hex_lower),
        (set(string.ascii_uppercase), _HEX_UPPER, hex_upper),
    ):
        if seen & letters:
            wide.update(hex_set if is_hex else letters)
    return sorted(wide)


class KeyPositions:
    """Keys under `prefix` as integers, in key order, from the characters seen per place.

    Place j of the suffix is a digit of radix len(alphabet_j): sequential names and hashes
    map to evenly spread positions. A key that ends early, or whose next character sorts
    first, takes the position of its prefix (ties are allowed, never an inversion); a
    character no alphabet has maps to just below the next known one. Positions resolve
    DEPTH characters; longer keys tie.
    """

    def __init__(self, seen: Sequence[set[str]], prefix: str = "") -> None:
        self.prefix = prefix
        everything = set().union(*seen)
        lower = everything & set(string.ascii_lowercase)
        upper = everything & set(string.ascii_uppercase)
        # Hexadecimal keys (hashes, UUIDs): letters seen, and none past f / F.
        hex_lower = bool(lower) and lower <= _HEX_LOWER
        hex_upper = bool(upper) and upper <= _HEX_UPPER
        self.alphabets = [_widened(s, hex_lower, hex_upper) for s in seen]
        radices = [max(1, len(a)) for a in self.alphabets]
        self.weights = [1] * DEPTH
        for j in range(DEPTH - 2, -1, -1):
            self.weights[j] = self.weights[j + 1] * radices[j + 1]
        self.span = self.weights[0] * radices[0]

    @classmethod
    def of(cls, keys: Iterable[str], prefix: str = "") -> KeyPositions:
        seen: list[set[str]] = [set() for _ in range(DEPTH)]
        note_places(seen, keys, len(prefix))
        return cls(seen, prefix)

    def position(self, key: str) -> int:
        suffix = key[len(self.prefix) : len(self.prefix) + DEPTH]
        total = 0
        for j, char in enumerate(suffix):
            alphabet = self.alphabets[j]
            at = bisect.bisect_left(alphabet, char)
            if at < len(alphabet) and alphabet[at] == char:
                total += at * self.weights[j]
                continue
            # not a known character here: after every key with the one before it
            if at:
                total += at * self.weights[j] - 1
            break
        return min(total, self.span - 1)

    def key_at(self, position: int) -> str:
        """The shortest key at that position."""
        position = max(0, min(position, self.span - 1))
        chars: list[str] = []
        for j in range(DEPTH):
            if not self.alphabets[j]:
                break
            digit, position = divmod(position, self.weights[j])
            chars.append(self.alphabets[j][digit])
        # trailing first-of-their-place characters name the same position, shorter
        while chars and chars[-1] == self.alphabets[len(chars) - 1][0]:
            chars.pop()
        return self.prefix + "".join(chars)


def note_places(seen: list[set[str]], keys: Iterable[str], cut: int) -> None:
    for key in keys:
        for j, char in enumerate(key[cut : cut + DEPTH]):
            seen[j].add(char)


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

    def __init__(self, prefix: str, folders: Sequence[str] = (), only: bool = False) -> None:
        """`folders`: folders known to exist under the prefix (their characters shape
        positions); `only`: a delimiter listing showed nothing else, so no key lies
        between them, before the first or after the last."""
        self.prefix = prefix
        self.folders = list(folders) if only else []
        self.probes: list[Probe] = []
        self._seen: list[set[str]] = [set() for _ in range(DEPTH)]
        note_places(self._seen, folders, len(prefix))
        self._where: KeyPositions | None = None
        self._spans: list[_Span] | None = None

    def add(self, probe: Probe) -> None:
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
        return _increasing(cuts)


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


def split_by_samples(samples: Iterable[tuple[str, int]], items: int) -> list[str]:
    """Up to items - 1 boundaries at equal cumulative weight of ordered (key, weight)
    samples (weight: the entries up to and including the key since the previous sample)."""
    ordered = sorted(samples)
    total = sum(w for _, w in ordered)
    if items <= 1 or total <= 0:
        return []
    step = total / items
    cuts: list[str] = []
    done = 0
    target = step
    for key, weight in ordered:
        done += weight
        if done >= target and len(cuts) < items - 1:
            cuts.append(key)
            while target <= done:
                target += step
    return _increasing(cuts)


def _increasing(cuts: Iterable[str]) -> list[str]:
    out: list[str] = []
    for cut in cuts:
        if not out or cut > out[-1]:
            out.append(cut)
    return out
