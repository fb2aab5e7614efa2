"""Divergence and reproducibility, through real ``benchopt run`` calls.

Run A: every meta-learning solver on every task family (small sizes) with
an absurd ``eta0`` (1e6) and an absurd ``meta_lr`` (1e6), next to the same
solvers with sane settings and to references. Run B: only the sane ones,
with two repetitions. Checked on the parquet files:

- run A completes with ``BENCHOPT_RAISE_ON_ERROR`` (no solver crashed);
- no NaN reaches a result column: a metric a curve reports is finite or
  +inf on every row; ``value = inf`` exactly where ``diverged_fraction > 0``;
- eta0 = 1e6 starts at ``value = inf``, ``diverged_fraction = 1`` on the
  linear families (the finite log objective still says how far); on mlp
  tasks the cross-entropy stays finite (float32 logits do not overflow in
  20 steps) but is 1e5 times chance level;
- meta_lr = 1e6: the learned step size stays finite and >= 0;
- reproducibility: the sane solvers' metrics in run A are bit-identical to
  those of repetition 0 in run B (same seed, same values; the absurd
  solvers in the same run change nothing), and repetition 1 draws other
  tasks (other values).
"""

import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

DATASETS = """
dataset:
  - "quadratic[spectrum=wishart,dim=5,horizon=100]"
  - "least_squares[dim=6,n_samples=8,n_train_tasks=2,n_test_tasks=2,\
horizon=100]"
  - "mlp[n_samples=40,n_test=40,hidden=(8,),horizon=20,n_train_tasks=2,\
n_test_tasks=2]"
"""
SANE = """
  - "log-unrolled[gradient=[stable,backprop]]"
  - "neural-optimizer[split=train,truncation=5,hidden=8,device=cpu]"
  - "fixed-step[rule='1/L']"
  - "grid-search[split=train,grid_size=5]"
"""
GRID = "meta_optimizer=[brent,projected-gd],meta_lr=[None,1e6]"
ABSURD = f"""
  - "naive-unrolled[eta0=[0.1,1e6],{GRID}]"
  - "log-unrolled[gradient=[stable,backprop],eta0=[0.1,1e6],{GRID}]"
  - "train-by-validation[meta_objective=log,gradient=[stable,backprop],\
eta0=[0.1,1e6],{GRID}]"
  - "neural-optimizer[split=train,truncation=5,hidden=8,device=cpu,\
meta_lr=1e6]"
"""
RUN_A = "max-runs: 4\ntimeout: 120\n" + DATASETS + "solver:" + SANE + ABSURD
RUN_B = "max-runs: 4\ntimeout: 120\n" + DATASETS + "solver:" + SANE

METRIC = "objective_"
REQUIRED = ["value", "train_loss", "diverged_fraction", "meta_grad_failures",
            "inner_gradient_evaluations"]
PER_FAMILY = {"quadratic": ["log_objective", "eta_star"],
              "least_squares": ["log_objective", "excess_risk"],
              "mlp": ["log_objective", "test_accuracy", "train_accuracy"]}


def run(tmp_path, name, config, *extra):
    (tmp_path / f"{name}.yml").write_text(config)
    out = tmp_path / f"{name}.parquet"
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true",
               OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(tmp_path / f"{name}.yml"), "--no-cache", "--no-plot",
         "--output", str(out), *extra],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = pd.read_parquet(out)
    results["family"] = results.dataset_name.str.split("[").str[0]
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("divergence")
    return run(tmp, "a", RUN_A), run(tmp, "b", RUN_B, "--n-repetitions", "2")


def curves(results):
    return results.groupby(["family", "dataset_name", "solver_name"])


def test_no_nan_reaches_a_result_column(runs):
    a, _ = runs
    for (family, _, solver), curve in curves(a):
        metrics = curve.filter(like=METRIC)
        for column in REQUIRED + PER_FAMILY[family]:
            assert not metrics[METRIC + column].isna().any(), (solver,
                                                               column)
        for column, values in metrics.items():
            # reported on every row or not at all (another family's metric);
            # the held-out suites and the score are reported on a run's
            # final row only (tests/test_generalization_run.py)
            if column.startswith((METRIC + "suite_", METRIC + "speedup_")):
                continue
            assert values.isna().all() or values.notna().all(), (
                family, solver, column)
            assert not (values == -np.inf).any(), (solver, column)
        value, diverged = curve[METRIC + "value"], curve[
            METRIC + "diverged_fraction"]
        assert ((value == np.inf) == (diverged > 0)).all(), solver
        assert diverged.between(0, 1).all()


def test_absurd_eta0_diverges_visibly(runs):
    a, _ = runs
    absurd = a[a.solver_name.str.contains("eta0=1000000.0")]
    assert set(absurd.family) == {"quadratic", "least_squares", "mlp"}
    assert absurd.solver_name.str.split("[").str[0].nunique() == 3
    for (family, _, solver), curve in curves(absurd):
        first = curve.sort_values("stop_val").iloc[0]
        assert first[METRIC + "step_size"] == pytest.approx(1e6, rel=1e-12)
        if family == "mlp":              # finite, far above chance (2.3)
            assert first[METRIC + "value"] > 1e5, solver
        else:
            assert first[METRIC + "value"] == math.inf, solver
            assert first[METRIC + "diverged_fraction"] == 1.0
            assert math.isfinite(first[METRIC + "log_objective"])


def test_absurd_meta_lr_keeps_a_finite_step_size(runs):
    a, _ = runs
    absurd = a[a.solver_name.str.contains("meta_lr=1000000.0")]
    assert absurd.solver_name.str.split("[").str[0].nunique() == 4
    step = absurd[METRIC + "step_size"].dropna()      # neural: no step
    assert len(step) > 0
    assert np.isfinite(step).all() and (step >= 0).all()
    # some of them do blow up, and say so
    assert (absurd[METRIC + "diverged_fraction"] > 0).any()


def test_sane_solvers_are_untouched_and_reproducible(runs):
    a, b = runs
    b0 = b[b.idx_rep == 0]
    keys = ["dataset_name", "solver_name", "stop_val"]
    columns = sorted(c for c in b0 if c.startswith(METRIC))
    merged = b0[keys + columns].merge(a[keys + columns], on=keys,
                                      suffixes=("_b", "_a"))
    # (run A has some sane settings twice: in SANE and in ABSURD's grid)
    assert len(b0) > 0
    assert (set(map(tuple, merged[keys].values))
            == set(map(tuple, b0[keys].values)))
    for column in columns:
        got, ref = merged[column + "_a"], merged[column + "_b"]
        same = (got == ref) | (got.isna() & ref.isna())
        assert same.all(), (column, merged[~same][keys])


def test_repetitions_draw_other_tasks(runs):
    _, b = runs
    final = b.sort_values("stop_val").groupby(
        ["dataset_name", "solver_name", "idx_rep"]).last()
    values = final[METRIC + "value"].unstack("idx_rep")
    assert values.shape[1] == 2
    # every family, every solver: another draw, another final value
    assert (values[0] != values[1]).all(), values
    eta_star = final[METRIC + "eta_star"].dropna().unstack("idx_rep")
    assert (eta_star[0] != eta_star[1]).all()
