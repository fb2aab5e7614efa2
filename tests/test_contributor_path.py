"""The contributor paths of CONTRIBUTING.md, one per extension point.

Each test writes the guide's own example (the code block after
``<!-- example: <path> -->``) into a temporary copy of the benchmark and
runs it the way a contributor would:

- a new task family, through ``benchopt run`` with every solver (each
  gives a result or is skipped with a reason; none errors) and through
  ``benchopt test <copy> --skip-install``;
- a new learnable optimizer, meta-trained through the shared base by
  ``benchopt run``;
- a new estimator, picked up by the common estimator test;
- a solver copied from ``solvers/template_solver.py``, through benchopt's
  suite.
"""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from benchopt.benchmark import Benchmark

from conftest import ROOT

pytestmark = pytest.mark.slow

IGNORE = shutil.ignore_patterns(".git", "outputs", "__cache__",
                                "__pycache__", ".venv", "*.egg-info",
                                ".pytest_cache", ".hypothesis", "docs",
                                "figures")


def guide_examples():
    """``{path: code}`` of CONTRIBUTING.md's examples."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    found = re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```",
                       text, flags=re.S)
    return {path: code for path, code in found}


def copy_with(tmp_path, path):
    """A copy of the benchmark with the guide's example ``path`` in it."""
    copy = tmp_path / "benchmark"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    (copy / path).write_text(guide_examples()[path])
    return copy


def benchopt(*args, cwd=None, timeout=900):
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true",
               OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "benchopt", *args],
                          capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=cwd)


def test_the_guide_has_one_example_per_extension_point():
    assert set(guide_examples()) == {
        "datasets/logistic.py", "datasets/tiny_cnn.py",
        "solvers/learnable_rmsprop.py",
        "benchmark_utils/meta_gradients/forward_gradient.py"}


def test_a_new_task_family_runs_every_solver(tmp_path):
    copy = copy_with(tmp_path, "datasets/logistic.py")
    solvers = sorted(cls.name for cls in Benchmark(copy).get_solvers())
    out = tmp_path / "logistic.parquet"
    proc = benchopt("run", str(copy), "-d", "logistic", "--max-runs", "3",
                    "--timeout", "60", "--no-cache", "--no-plot",
                    "--output", str(out))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-5000:]
    ran = {name.split("[")[0] for name in pd.read_parquet(out).solver_name}
    skipped = {re.match(r"[\w-]+", part).group(0)
               for part in log.split("|--")[1:]
               if "skip" in part}
    # every solver gave a result or was skipped (with a reason line)
    assert set(solvers) == ran | skipped, (set(solvers) - ran - skipped)
    assert log.count("skip") <= log.count("Reason:")
    assert {"log-unrolled", "neural-optimizer", "dog"} <= ran
    assert {"fixed-step", "polyak", "sgd"} <= skipped - ran


def test_a_new_task_family_passes_benchopts_suite(tmp_path):
    copy = copy_with(tmp_path, "datasets/logistic.py")
    proc = benchopt("test", str(copy), "--skip-install", "-p",
                    "no:benchmark", "-k", "logistic", "-v")
    out = proc.stdout
    assert proc.returncode == 0, out[-5000:] + proc.stderr[-3000:]
    assert " failed" not in out
    for check in ("test_dataset_class[logistic] PASSED",
                  "test_dataset_get_data[logistic] PASSED"):
        assert check in out, out[-2000:]


def test_a_network_family_in_a_few_lines_runs(tmp_path):
    copy = copy_with(tmp_path, "datasets/tiny_cnn.py")
    out = tmp_path / "tiny_cnn.parquet"
    proc = benchopt("run", str(copy), "-d", "tiny_cnn", "-s", "adam", "-s",
                    "log-unrolled[gradient=backprop]", "-s",
                    "log-unrolled[gradient=forward]", "-s",
                    "neural-optimizer[truncation=5,max_meta_steps=3]",
                    "--max-runs", "3", "--no-cache", "--no-plot",
                    "--output", str(out))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    curves = pd.read_parquet(out).sort_values("stop_val").groupby(
        "solver_name").objective_value
    first, last = curves.first(), curves.last()
    assert len(last) == 5             # neural-optimizer: both splits
    assert np.isfinite(last).all()    # backprop and forward mode ran
    adam = [name for name in last.index if name.startswith("adam")]
    assert (last[adam] < 1.5).all()                 # chance: log 10 = 2.30
    neural = [name for name in last.index if name.startswith("neural")]
    assert (last[neural] < first[neural]).all()


def test_a_new_learnable_optimizer_meta_trains_through_the_base(tmp_path):
    copy = copy_with(tmp_path, "solvers/learnable_rmsprop.py")
    out = tmp_path / "rmsprop.parquet"
    proc = benchopt("run", str(copy), "-s", "learnable-rmsprop", "-d",
                    "quadratic[spectrum=linspace,dim=10,horizon=50]",
                    "--max-runs", "8", "--no-cache", "--no-plot",
                    "--output", str(out))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-5000:]
    curve = pd.read_parquet(out).sort_values("stop_val")
    first, last = curve.iloc[0], curve.iloc[-1]
    assert last.objective_value < 0.5 * first.objective_value
    assert last.objective_step_size > first.objective_step_size
    assert last.objective_inner_gradient_evaluations > 0
    assert last.objective_meta_grad_failures == 0
    assert 0 < last.objective_decay < 1


def test_a_new_estimator_is_picked_up_by_the_common_tests(tmp_path):
    path = "benchmark_utils/meta_gradients/forward_gradient.py"
    copy = copy_with(tmp_path, path)
    shutil.copytree(ROOT / "tests", copy / "tests", dirs_exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_estimator_contract.py", "-k", "forward-gradient"],
        capture_output=True, text=True, cwd=copy, timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out[-5000:] + proc.stderr[-3000:]
    assert "4 passed" in out, out[-2000:]


def test_template_is_ignored(bench):
    names = [cls.name for cls in bench.get_solvers()]
    assert "template-heavy-ball" not in names


def test_solver_from_template_passes_benchopt_suite(tmp_path):
    copy = tmp_path / "benchmark"
    shutil.copytree(ROOT, copy, ignore=IGNORE)
    template = (copy / "solvers" / "template_solver.py").read_text()
    assert 'name = "template-heavy-ball"' in template
    (copy / "solvers" / "contributed_heavy_ball.py").write_text(
        template.replace('"template-heavy-ball"', '"contributed-heavy-ball"')
    )
    names = [cls.name for cls in Benchmark(copy).get_solvers()]
    assert "contributed-heavy-ball" in names

    proc = benchopt("test", str(copy), "--skip-install", "-p",
                    "no:benchmark", "-k", "contributed-heavy-ball",
                    timeout=600)
    out = proc.stdout
    assert proc.returncode == 0, out[-5000:] + proc.stderr[-3000:]
    assert " failed" not in out
    passed = int(out.rsplit(" passed", 1)[0].rsplit(" ", 1)[-1])
    assert passed >= 3, out[-2000:]


def test_the_examples_live_in_the_guide_only():
    """The repository does not ship a copy that could drift from the
    guide: the guide's text is what the tests run."""
    for path in guide_examples():
        assert not (ROOT / path).exists(), path
