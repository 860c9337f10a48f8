"""The benchmark's bucket pair, built straight into moto's backend."""

from __future__ import annotations

from typing import Any

SOURCE, TARGET = "bench-source", "bench-target"


def populate(
    backend: Any, entries: int, vanished_fraction: float, ambiguous_fraction: float = 0.0
) -> tuple[list[str], int, int, int]:
    """N target keys; a fraction vanished from the source; a fraction of the live ones with a
    noncurrent target version of the source's size but other content (the worst case for
    proofs: only HeadObject can tell). Returns (vanished, s, t, ambiguous)."""
    vanished: list[str] = []
    every = round(1 / vanished_fraction) if vanished_fraction > 0 else 0
    ambiguous_every = round(1 / ambiguous_fraction) if ambiguous_fraction > 0 else 0
    ambiguous = 0
    for i in range(entries):
        key = f"data/{i // 1000:05d}/{i:09d}.bin"
        body = f"body-{i}".encode()
        if every and i % every == every // 2:
            backend.put_object(TARGET, key, body)
            backend.delete_object(TARGET, key)  # DataSync's REMOVE left a marker
            vanished.append(key)
            continue
        if ambiguous_every and i % ambiguous_every == 0:
            backend.put_object(TARGET, key, body.upper())  # same size, content purged at source
            ambiguous += 1
        backend.put_object(TARGET, key, body)
        backend.put_object(SOURCE, key, body)
    source_entries = entries - len(vanished)
    target_entries = entries + len(vanished) + ambiguous
    return vanished, source_entries, target_entries, ambiguous


def restore_vanished(backend: Any, vanished: list[str]) -> None:
    for key in vanished:
        backend.put_object(TARGET, key, f"body-{int(key[-13:-4])}".encode())
        backend.delete_object(TARGET, key)
