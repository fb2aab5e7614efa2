"""Figure 4: ``benchopt run .`` with its defaults, end to end.

Wall time of the README's main job, and the share of it spent in the
objective's ``evaluate_result`` (measured by running it under cProfile;
the wall time is from a separate run without the profiler).
"""

import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, figure


def _benchopt_run(extra, out_dir, profile=None):
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "benchopt", "run", str(ROOT), "--no-plot", "--no-cache",
            "--output", str(Path(out_dir) / "run.parquet"), *extra]
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def evaluation_seconds(profile):
    stats = pstats.Stats(str(profile))
    total = 0.0
    for (filename, _, name), row in stats.stats.items():
        if name == "evaluate_result" and filename.endswith("objective.py"):
            total += row[3]                 # cumulative time
    return total


def default_run(extra=()):
    """``default_run_seconds`` and ``evaluation_share``; ``extra`` are
    benchopt options (the quick mode selects one small dataset)."""
    with tempfile.TemporaryDirectory() as tmp:
        wall = _benchopt_run(extra, tmp)
        profile = Path(tmp) / "run.prof"
        profiled = _benchopt_run(extra, tmp, profile)
        evaluation = evaluation_seconds(profile)
    command = "benchopt run ." + "".join(f" {e}" for e in extra)
    return [
        figure("default_run_seconds", wall, "s", "< 180",
               f"`{command}` (wall, 2 cores)", command=command),
        figure("evaluation_share", evaluation / profiled, "fraction",
               "< 0.1", f"evaluate_result: {evaluation:.1f} s of a "
               f"{profiled:.1f} s run under cProfile", command=command),
    ]
