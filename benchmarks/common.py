"""Shared helpers of the performance benchmarks: timing, the JSON line
every figure is printed as; peak memory comes from the one probe,
:func:`studies.memory.peak_memory_mb`."""

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studies.memory import peak_memory_mb  # noqa: E402,F401


def figure(name, value, unit, target, anchor=None, **extra):
    """One figure as the JSON object ``benchmarks/run.py`` prints."""
    out = dict(name=name, value=value, unit=unit, target=target)
    if anchor is not None:
        out["anchor"] = anchor
    out.update(extra)
    return out


def emit(fig):
    print(json.dumps(fig), flush=True)


def best_time(fn, repeats=3):
    """Minimum wall time of ``fn()`` over ``repeats`` calls (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
