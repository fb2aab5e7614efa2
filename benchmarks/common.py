"""Shared helpers of the performance benchmarks: timing, peak memory, the
JSON line every figure is printed as."""

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


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


def peak_memory_mb(code):
    """Extra peak resident memory (MB) of ``run()`` in a fresh Python
    process, after ``setup()`` (both defined by ``code``): Linux's resident
    high-water mark is reset after the setup (``/proc/self/clear_refs``)
    and read after the run."""
    script = code + """
from benchmarks_common_probe import probe
probe(setup, run)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True,
        text=True, check=True,
        env={**__import__("os").environ,
             "PYTHONPATH": str(Path(__file__).parent)},
    )
    return float(out.stdout.strip().splitlines()[-1])
