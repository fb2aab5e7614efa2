"""The contributor path: a solver written from solvers/template_solver.py.

In a temporary copy of the benchmark, the template copied to a new file
with a new name is found by benchopt and passes benchopt's own test suite
(``benchopt test <copy> --skip-install``), run for that solver only; the
template itself is ignored by benchopt.
"""

import shutil
import subprocess
import sys

from benchopt.benchmark import Benchmark

from conftest import ROOT

IGNORE = shutil.ignore_patterns(".git", "outputs", "__cache__",
                                "__pycache__", ".venv", "*.egg-info",
                                ".pytest_cache", ".hypothesis", "tests")


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

    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "test", str(copy),
         "--skip-install", "-p", "no:benchmark", "-k",
         "contributed-heavy-ball"],
        capture_output=True, text=True, timeout=600,
    )
    out = proc.stdout
    assert proc.returncode == 0, out[-5000:] + proc.stderr[-3000:]
    assert " failed" not in out
    passed = int(out.rsplit(" passed", 1)[0].rsplit(" ", 1)[-1])
    assert passed >= 3, out[-2000:]
