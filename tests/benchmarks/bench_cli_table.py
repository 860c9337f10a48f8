"""bench_cli_parallel.py's figures as a table a person reads (its `--json` is the rest)."""

from __future__ import annotations

from typing import Any

RUNS = ("workers-1", "default", "dry-run", "apply-plan")


def print_table(figures: dict[str, Any]) -> None:
    m, e, runs = figures["machine"], figures["entries"], figures["runs"]
    print(f"machine: {m['cpuCount']} CPUs, {m['platform']}, Python {m['python']}")
    print(
        f"entries: source {e['source']:,}, target {e['target']:,}, to purge {e['purged']:,}; "
        f"latency: LIST {figures['latency']['listSeconds']} s, other "
        f"{figures['latency']['otherSeconds']} s"
    )
    print(f"default workers: {figures['defaultWorkers']} ({figures['defaultWorkersFrom']})")
    for note in figures["notes"]:
        print(f"note: {note}")
    names = [name for name in RUNS if name in runs]

    def row(label: str, values: list[str]) -> None:
        print(f"{label:30}" + "".join(f"{v:>14}" for v in values))

    def num(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    row("", names)
    table: list[tuple[str, tuple[str, ...], str]] = [
        ("exit code", ("exitCode",), "d"),
        ("workers", ("workers",), "d"),
        ("wall s (main)", ("seconds",), ".2f"),
        ("process s", ("processSeconds",), ".2f"),
        ("CPU s (child)", ("cpuSeconds",), ".2f"),
        ("CPU s (main only)", ("mainCpuSeconds",), ".2f"),
        ("server CPU s (moto+proxy)", ("serverCpuSeconds",), ".2f"),
        ("latency floor s", ("latencyFloorSeconds",), ".2f"),
        ("CPU floor s", ("cpuFloorSeconds",), ".2f"),
        ("CPU ms / 1,000 listed", ("cpuMsPer1000Listed",), ".1f"),
        ("listed entries", ("listedEntries",), ","),
        *(
            (f"{kind} requests", ("summary", "requests", kind), ",")
            for kind in ("list", "delete", "verify", "head")
        ),
        ("proxy: LIST pages", ("proxy", "list"), ","),
        ("proxy: other requests", ("proxy", "other"), ","),
        ("planned", ("summary", "totals", "planned"), ","),
        ("purged", ("summary", "totals", "purged"), ","),
        ("list+delete / lower bound", ("listPlusDeleteOverBound",), ".3f"),
        ("all requests / lower bound", ("allRequestsOverBound",), ".3f"),
        ("peak RSS MB", ("peakRssMb",), ".1f"),
    ]
    for label, path, spec in table:
        values = []
        for name in names:
            value: Any = runs[name]
            for part in path:
                value = value[part]
            values.append(num(value, spec))
        row(label, values)
    print(f"lower bound (list+delete): {figures['lowerBound']:,}")
    speed_up = figures["speedUp"]
    print(f"speed-up, default over workers 1: {num(speed_up, '.2f')}{'x' if speed_up else ''}")
    print(
        "apply plan's LIST requests over the default run's: "
        f"{figures['applyPlanListsOverDefault']:.3f}"
    )
