"""What a benchmark's child process reports about itself."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process image's high-water RSS (VmHWM).

    Not getrusage's ru_maxrss: Linux carries it across fork+exec, so a child would
    report the benchmark parent's (moto-laden) peak instead of its own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
