"""Key ranges: how Plan cuts one key space into balanced Diff work items (docs/design.md §10).

Pure: no I/O. A work item is a range (after, upTo] of relative keys. Its boundaries come
from one of two places:

- **Recorded samples** (`split_by_samples`): the last run's Diff items noted a key every
  so many entries, with the entries since the previous note. Cutting at equal
  cumulative weight gives near-perfect balance.
- **Probes** (`syncpurge.core.probes.ProbeSplitter`), on a first run, using the positions
  this module maps keys to (`KeyPositions`).
"""

from __future__ import annotations

import bisect
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


def shared_prefix(low: str, high: str) -> str:
    """The characters both keys start with: every key between them starts with it too."""
    for at, (a, b) in enumerate(zip(low, high, strict=False)):
        if a != b:
            return low[:at]
    return low if len(low) <= len(high) else high


def cuts_within(cuts: Iterable[str], limit: int = MAX_KEY_BYTES) -> list[str]:
    """Boundaries clamped to `limit` bytes, still strictly increasing."""
    return increasing(clamp_key(cut, limit) for cut in cuts)


@dataclass(frozen=True, slots=True)
class KeyRange:
    """Relative keys k with after < k <= up_to (None: unbounded on that side)."""

    after: str | None = None
    up_to: str | None = None

    def holds(self, key: str) -> bool:
        return (self.after is None or key > self.after) and (
            self.up_to is None or key <= self.up_to
        )


def ranges_between(boundaries: Sequence[str], within: KeyRange | None = None) -> list[KeyRange]:
    """The consecutive ranges that strictly increasing `boundaries` cut `within` (default:
    the whole key space) into; together they cover it exactly."""
    outer = within or KeyRange()
    edges: list[str | None] = [outer.after, *boundaries, outer.up_to]
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
    return increasing(cuts)


def increasing(cuts: Iterable[str]) -> list[str]:
    """The cuts in order, each past the one before (repeats and steps back dropped)."""
    out: list[str] = []
    for cut in cuts:
        if not out or cut > out[-1]:
            out.append(cut)
    return out
