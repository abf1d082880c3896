"""What machine a measurement was taken on, for benchmark results files."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` on Linux, else what `platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "?"


SPEED_FLAGS = ("avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "avx2", "fma", "f16c")
"""CPU flags that change how fast a model runs (the same model runs ~3x slower on AVX2 only)."""


def cpu_flags() -> str:
    """The speed-relevant CPU flags this machine has, e.g. ``"avx512f avx2 fma"`` ("?": unknown)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                have = set(line.split(":", 1)[1].split())
                return " ".join(f for f in SPEED_FLAGS if f in have) or "none of " + "/".join(
                    SPEED_FLAGS
                )
    except OSError:
        pass
    return "?"


def usable_cores() -> int:
    """Cores this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def describe() -> dict[str, str | int]:
    """CPU name and speed flags, usable cores, OS and Python: the header of every results file."""
    return {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 0,
        "os": platform.platform(),
        "python": platform.python_version(),
    }
