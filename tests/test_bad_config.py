"""Malformed and mixed run configs through ``benchopt run --config``.

A config benchopt cannot parse (unknown solver, unknown parameter, unknown
option, broken YAML) stops the run at once with a message naming the
culprit. A config that mixes valid and invalid settings completes the valid
ones: an invalid solver setting is an ``error`` (its ValueError printed,
the run goes on), an invalid dataset setting a skip whose reason names the
parameter (benchopt calls ``get_data`` outside its error handling, where an
exception would abort the whole run and write no result file).
"""

import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

GOOD_DATASET = "quadratic[spectrum=wishart,dim=5,horizon=10]"


def benchopt_run(tmp_path, config, *extra):
    (tmp_path / "config.yml").write_text(config)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("BENCHOPT_RAISE_ON_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(tmp_path / "config.yml"), "--no-cache", "--no-plot", *extra],
        capture_output=True, text=True, env=env, timeout=300,
    )


MALFORMED = [
    ('solver: ["no-such-solver"]', "did not match any solver"),
    ('solver: ["log-unrolled[etaa0=0.1]"]',
     "Unknown parameter 'etaa0' for solver log-unrolled"),
    ('solvers: ["log-unrolled"]', "Invalid config file option solvers"),
    ('solver: ["log-unrolled"', "yaml"),
]


@pytest.mark.parametrize("line, message", MALFORMED)
def test_malformed_config_fails_clearly(tmp_path, line, message):
    config = f'max-runs: 2\ndataset: ["{GOOD_DATASET}"]\n{line}\n'
    proc = benchopt_run(tmp_path, config)
    assert proc.returncode != 0
    assert message.lower() in (proc.stdout + proc.stderr).lower()


MIXED = f"""
max-runs: 3
dataset:
  - "quadratic[spectrum=wishart,dim=0,horizon=10]"
  - "{GOOD_DATASET}"
  - "least_squares[dim=4,n_samples=6,noise=-1.0]"
solver:
  - "log-unrolled[gradient=stable]"
  - "log-unrolled[gradient=stable,eta0=-1]"
  - "grid-search[split=train,val_fraction=abc]"
  - "fixed-step[rule='1/L']"
"""


def test_mixed_config_runs_the_valid_settings(tmp_path):
    out = tmp_path / "out.parquet"
    proc = benchopt_run(tmp_path, MIXED, "--output", str(out))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    results = pd.read_parquet(out)
    assert set(results.dataset_name.str.split("[").str[0]) == {"quadratic"}
    assert set(results.solver_name.str.split("[").str[0]) == {
        "log-unrolled", "fixed-step"}
    assert not results.solver_name.str.contains("eta0=-1").any()
    # the invalid settings are reported, each naming its parameter
    assert "invalid dataset parameter: parameter 'dim' must be" in log
    assert "invalid dataset parameter: parameter 'noise' must be" in log
    assert "parameter 'eta0' must be a finite number in (0, +inf)" in log
    assert "parameter 'val_fraction' must be" in log
    assert log.count("error") >= 2
