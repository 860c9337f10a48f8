"""bench_ranges.py's printed report: the figures of each run, against the lower bound
(tests/benchmarks/bench_ranges.py)."""

from __future__ import annotations

from typing import Any


def heading(figures: dict[str, Any]) -> str:
    keys = f"{figures['keys']:,} target keys, {figures['where']}"
    return f"{keys} (built in {figures['buildSeconds']} s)"


def report_some(figures: dict[str, Any]) -> None:
    """`--runs` without all of A to D: each run that ran, and the later run's bound."""
    print(heading(figures))
    if "A" in figures:
        print(
            f"  one item (A): planned {figures['A']['planned']:,}, "
            f"LIST {figures['A']['requests']['list']:,}"
        )
    for name in "BCD":
        if name not in figures:
            continue
        run, waves = figures[name], figures[name]["recut"] or {}
        print(
            f"  {name}: {run['items']} items, largest {run['maxOverMean']}x the mean, same plan "
            f"as A: {run['samePlanAsA']}, {run['seconds']} s; {waves.get('waves')} waves, "
            f"{waves.get('items')} items handed back in {waves.get('pieces')} pieces; LIST "
            f"{run['requests']['list']:,}, DeleteObjects {run['requests']['delete']:,}"
        )
    if "D" in figures:
        d, bound = figures["D"], figures["lowerBound"]
        spent = d["requests"]["list"] + d["requests"]["delete"]
        print(
            f"  later run (D): list + delete {spent:,} = {spent / bound:.3f}x the bound {bound:,}"
        )
    if "largestSlice" in figures["B"]:
        report_slices(figures, [n for n in "BC" if n in figures])


def report_slices(figures: dict[str, Any], runs: list[str]) -> None:
    pieces = [(f"largest Diff item of {name}", figures[name]["largestSlice"]) for name in runs]
    pieces.append(("the whole prefix as one item", figures["B"]["wholePrefixSlice"]))
    for name, piece in pieces:
        print(
            f"  {name}: {piece['entries']:,} entries in one slice, peak RSS "
            f"{piece['peakRssMb']} MB ({piece['importedRssMb']} MB after imports), "
            f"{piece['seconds']} s, done: {piece['done']}"
        )


def report(figures: dict[str, Any]) -> None:
    if not {"A", "C", "D"} <= figures.keys():  # --runs, or --slices-only (B alone)
        report_some(figures)
        return
    bound = figures["lowerBound"]
    b, c, d = figures["B"], figures["C"], figures["D"]
    first = b["requests"]["list"] + d["requests"]["delete"]
    second = d["requests"]["list"] + d["requests"]["delete"]
    print(heading(figures))
    print(f"  one item (A): planned {figures['A']['planned']:,} in {figures['A']['seconds']} s")
    for name, run in (("first run (B, probes)", b), ("second run (C, recorded)", c)):
        waves = run["recut"] or {}
        print(
            f"  {name}: {run['items']} items, largest {run['maxOverMean']}x the mean, "
            f"same plan as one item: {run['samePlanAsA']}, {run['seconds']} s; "
            f"{waves.get('waves')} waves, {waves.get('items')} items handed back in "
            f"{waves.get('pieces')} pieces"
        )
    if "largestSlice" in b:  # not with --no-replay
        report_slices(figures, ["B", "C"])
    print(f"  real run (D): purged {d['totals']['purged']:,}, same plan: {d['samePlanAsA']}")
    print(
        f"  list+delete: first run {first:,} ({first / bound:.3f}x), second run {second:,} "
        f"({second / bound:.3f}x) against the lower bound {bound:,}"
    )
    print(
        f"    LIST: A {figures['A']['requests']['list']:,}, B {b['requests']['list']:,}, "
        f"C {c['requests']['list']:,}, D {d['requests']['list']:,}; "
        f"D's DeleteObjects {d['requests']['delete']:,}"
    )
    print(f"  verify LISTs: {d['requests']['verify']:,}")
