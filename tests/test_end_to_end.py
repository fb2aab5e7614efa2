"""`benchopt run` end to end, through the CLI, with no cache."""

import math
import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

CONFIG = """
max-runs: 30
timeout: 120
dataset:
  - "quadratic[spectrum=wishart,dim=8,horizon=30]"
  - "quadratic[spectrum=wishart,dim=8,horizon=1000,dtype=float32]"
  - "least_squares[dim=12,n_samples=8,n_train_tasks=4,n_test_tasks=4]"
solver:
  - naive-unrolled
  - log-unrolled
  - train-by-validation
  - grid-search
"""

COMMON = ["value", "train_loss", "log_objective", "diverged_fraction",
          "step_size", "meta_grad_failures", "inner_gradient_evaluations"]
PER_FAMILY = {"quadratic": ["eta_star", "step_size_rel_error"],
              "least_squares": ["excess_risk"]}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    (tmp / "config.yml").write_text(CONFIG)
    out = tmp / "results.parquet"
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true")
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(tmp / "config.yml"), "--no-cache", "--no-plot",
         "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return pd.read_parquet(out)


def test_every_solver_reports_every_metric(results):
    runs = results.groupby(["dataset_name", "solver_name"])
    # 3 datasets x (naive + 2 log + 2 grid) + 1 dataset x 2 TbV (skipped on
    # quadratics) + grid-search[split=validation] skipped on quadratics
    assert len(runs) == 3 * 5 + 2 - 2
    for (dataset, solver), curve in runs:
        family = dataset.split("[")[0]
        for metric in COMMON + PER_FAMILY[family]:
            column = curve[f"objective_{metric}"]
            assert column.dtype == "float64", (dataset, solver, metric)
            assert not column.isna().any(), (dataset, solver, metric)


def test_backprop_failure_keeps_its_curve(results):
    failing = results[
        results.dataset_name.str.contains("dtype=float32")
        & results.solver_name.str.contains("gradient=backprop")
    ]
    assert len(failing) >= 2                      # a curve, not a point
    # every meta-step failed (the last row is benchopt's final evaluation,
    # labelled one iteration later), and eta never moved from eta0
    failures, stop_val = failing.objective_meta_grad_failures, failing.stop_val
    assert (failures.iloc[:-1] == stop_val.iloc[:-1]).all()
    assert failures.iloc[-1] >= 10
    assert ((failing.objective_step_size - 0.1).abs() < 1e-16).all()
    assert (failing.objective_value > 1e30).all()    # float32 overflows
    assert failing.objective_log_objective.map(math.isfinite).all()

    stable = results[
        results.dataset_name.str.contains("dtype=float32")
        & results.solver_name.str.contains("gradient=stable")
    ]
    assert stable.objective_step_size_rel_error.iloc[-1] < 1e-3
