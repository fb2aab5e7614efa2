"""Suites and the score through a real ``benchopt run``: where they reach
the parquet table, and the aggregate read back from it.

- every run's last row holds the per-task values (``final_results``), also
  a run that benchopt stopped (``--max-runs``: log-unrolled here);
- the suite and score columns are on the last row of the runs that ended
  by themselves (tuned Adam runs once; the neural optimizer stops at
  ``max_meta_steps``), and on no other row;
- a suite that cannot be built (MNIST absent) is in ``skipped``;
- the tuned Adam solver scores at most 1 against Adam's envelope;
- :func:`~benchmark_utils.aggregation.score_table` turns the table into an
  interquartile mean with a stratified interval over the 2 repetitions.
"""

import os
import subprocess
import sys

import pandas as pd
import pytest
from benchopt.results.parquet import unpack

from benchmark_utils.aggregation import read_scores, score_table
from conftest import ROOT

pytestmark = pytest.mark.slow

CONFIG = """
max-runs: 4
timeout: 120
dataset:
  - mlp:
      n_samples: 40
      n_test: 40
      hidden: 8
      horizon: 8
      n_train_tasks: 2
      n_test_tasks: 2
      suites: [[wider, tanh, mnist]]
      score: true
solver:
  - adam
  - "neural-optimizer[split=train,truncation=4,hidden=8,device=cpu,\
max_meta_steps=2]"
  - "log-unrolled[gradient=backprop]"
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("generalization")
    (tmp / "config.yml").write_text(CONFIG)
    out = tmp / "results.parquet"
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true",
               OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(tmp / "config.yml"), "--no-cache", "--no-plot",
         "--n-repetitions", "2", "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return pd.read_parquet(out)


def runs(df):
    df = df.assign(solver=df.solver_name.str.split("[").str[0])
    return df.sort_values("stop_val").groupby(["solver", "idx_rep"])


def test_every_run_ends_with_its_per_task_values(results):
    for (solver, rep), run in runs(results):
        artefacts = [unpack(v) for v in run.final_results]
        assert all(not isinstance(a, dict) for a in artefacts[:-1])
        last = artefacts[-1]
        assert set(last["suites"]) == {"in_distribution", "wider", "tanh"}
        assert "benchopt prepare" in last["skipped"]["mnist"]
        for values in last["suites"].values():
            assert len(values["speedup_test"]) == 2
            assert len(values["censored_train"]) == 2


def test_suite_columns_are_on_the_final_row_of_self_stopping_runs(results):
    columns = [c for c in results if c.startswith("objective_suite_")
               or c.startswith("objective_speedup_")]
    assert "objective_suite_wider_value" in columns
    assert "objective_speedup_test" in columns
    core = ["objective_speedup_train", "objective_speedup_test"] + [
        f"objective_suite_{s}_{m}" for s in ("wider", "tanh")
        for m in ("value", "test_accuracy", "speedup_train", "speedup_test")]
    for (solver, rep), run in runs(results):
        present = run[core].notna().all(axis=1).tolist()
        assert not any(run[columns].notna().any(axis=1).tolist()[:-1])
        if solver in ("adam", "neural-optimizer"):     # ended by themselves
            assert present[-1], solver
        else:                                          # stopped by benchopt
            assert not present[-1], solver


def test_tuned_adam_scores_at_most_one_and_the_table_aggregates(results):
    scores = read_scores(results)
    adam = scores[scores.solver_name.str.startswith("adam")]
    assert (adam[adam.suite == "in_distribution"][
        ["speedup_train", "speedup_test"]] <= 1.0).all().all()
    table = score_table(scores)
    assert set(table.suite) == {"in_distribution", "wider", "tanh"}
    assert (table.n_runs == 2).all() and (table.strata == "stratified").all()
    assert ((table.low <= table.iqm) & (table.iqm <= table.high)).all()
