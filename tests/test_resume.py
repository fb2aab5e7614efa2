"""Crash and resumption: a ``benchopt run`` killed with SIGKILL part way
is run again with the cache on; the solver runs that had finished come
from benchopt's cache (never computed twice), the others are computed, and
the result file is complete.

Done in a temporary copy of the benchmark (the repository's ``__cache__``
is untouched) with a test-only solver that appends ``start <tag>`` and
``end <tag>`` to a counter file around a short sleep: the counter file
says what was computed, and when.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

COUNTING_SOLVER = '''
import os
import time

from benchopt import BaseSolver
from benchopt.stopping_criterion import SingleRunCriterion

from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers import GradientDescent


class Solver(BaseSolver):
    """Test only: GD with step 0.01 * rank, logs its runs, sleeps."""

    name = "counting"
    sampling_strategy = "run_once"
    stopping_criterion = SingleRunCriterion()
    parameters = {"tag": ["a", "b", "c", "d"], "sleep": [2.0]}

    def set_objective(self, tasks, horizon):
        pass

    def _log(self, event):
        with open(os.environ["COUNTER_FILE"], "a") as f:
            f.write(f"{event} {self.tag}\\n")

    def run(self, _):
        self._log("start")
        time.sleep(self.sleep)
        self._log("end")

    def get_result(self):
        eta = 0.01 * (1 + "abcd".index(self.tag))
        optimizer = GradientDescent()
        return dict(result=SolverResult(
            optimizer, optimizer.theta_from(step_size=eta)))
'''

CONFIG = """
dataset: ["quadratic[spectrum=wishart,dim=5,horizon=10]"]
solver: ["counting"]
"""


def events(path):
    return path.read_text().split("\n")[:-1] if path.exists() else []


def test_killed_run_resumes_from_the_cache(tmp_path):
    bench = tmp_path / "bench"
    shutil.copytree(ROOT, bench, ignore=shutil.ignore_patterns(
        "outputs", "__cache__", ".git", ".hypothesis", ".pytest_cache",
        "__pycache__"))
    (bench / "solvers" / "counting.py").write_text(COUNTING_SOLVER)
    (tmp_path / "config.yml").write_text(CONFIG)
    counter = tmp_path / "counter.txt"
    env = dict(os.environ, COUNTER_FILE=str(counter), OMP_NUM_THREADS="1")
    env.pop("BENCHOPT_RAISE_ON_ERROR", None)
    out = tmp_path / "results.parquet"
    cmd = [sys.executable, "-m", "benchopt", "run", str(bench), "--config",
           str(tmp_path / "config.yml"), "--no-plot", "--output", str(out)]

    # first run: killed once "a" has finished and "b" is under way
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        while "start b" not in events(counter):
            assert proc.poll() is None, "the run ended before the kill"
            assert time.perf_counter() - start < 120
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    killed_after = time.perf_counter() - start
    assert proc.returncode == -signal.SIGKILL
    assert events(counter) == ["start a", "end a", "start b"]
    assert not out.exists()
    assert any((bench / "__cache__").rglob("*"))       # "a" is cached

    # second run, cache on
    start = time.perf_counter()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True,
                           timeout=300)
    rerun_time = time.perf_counter() - start
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    log = events(counter)
    # "a" finished before the kill: never computed again; "b" was cut off:
    # computed again, "c" and "d" once
    assert log == ["start a", "end a", "start b",
                   "start b", "end b", "start c", "end c", "start d",
                   "end d"], log
    results = pd.read_parquet(out)
    assert sorted(results.solver_name.str.extract(r"tag=(\w)")[0]) == [
        "a", "b", "c", "d"]
    steps = dict(zip(results.solver_name.str.extract(r"tag=(\w)")[0],
                     results.objective_step_size))
    assert steps == pytest.approx({"a": 0.01, "b": 0.02, "c": 0.03,
                                   "d": 0.04}, rel=1e-14)
    # 3 solvers of 2 s sleep computed; "a" from the cache
    assert rerun_time > 3 * 2.0
    print(f"killed after {killed_after:.1f} s; rerun {rerun_time:.1f} s")
