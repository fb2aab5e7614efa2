"""Interquartile means with stratified bootstrap intervals, read from
benchopt's tables (the per-task values of save_final_results)."""

import math

import numpy as np
import pandas as pd
import pytest
from benchopt.results.parquet import pack

from benchmark_utils.aggregation import (
    interquartile_mean, iqm_interval, read_scores, score_table,
)


def test_interquartile_mean_ignores_the_outer_quarters():
    assert interquartile_mean(np.array([0.0, 1, 2, 3, 4, 5, 6, 1000])) == 3.5


def test_the_interval_holds_the_point_and_repeats():
    rng = np.random.default_rng(0)
    strata = [rng.normal(1.0, 0.3, 5) for _ in range(4)]
    point, low, high, kind = iqm_interval(strata, seed=3)
    assert kind == "stratified" and low < point < high
    assert iqm_interval(strata, seed=3) == (point, low, high, kind)
    assert high - low < 1.0
    # more runs per slot, a narrower interval
    wide = [rng.normal(1.0, 0.3, 40) for _ in range(4)]
    _, low2, high2, _ = iqm_interval(wide, seed=3)
    assert high2 - low2 < high - low


def test_the_stratified_bootstrap_keeps_every_stratum():
    # two slots far apart: a resample that dropped a slot would move the
    # IQM to 0 or 10; stratified, every resample keeps both slots' weight
    strata = [np.array([0.0, 0.1, 0.2]), np.array([10.0, 10.1, 10.2])]
    point, low, high, _ = iqm_interval(strata, seed=0)
    assert 4.9 < low <= point <= high < 5.3


def test_one_run_per_slot_pools_and_constant_scores_have_no_width():
    point, low, high, kind = iqm_interval([[1.0], [2.0], [3.0], [4.0]])
    assert kind == "pooled" and low < high
    assert iqm_interval([[2.0, 2.0], [2.0, 2.0]])[1:3] == (2.0, 2.0)
    with pytest.raises(ValueError, match="no scores"):
        iqm_interval([[]])


def artefact(speedups, censored=None):
    values = {"horizon": 10, "test_loss": [1.0] * len(speedups),
              "speedup_test": list(speedups),
              "censored_test": censored or [False] * len(speedups)}
    return {"version": 1, "suites": {"in_distribution": values,
                                     "wider": dict(values)}, "skipped": {}}


def table(runs):
    """A benchopt-like table: several rows per run, the artefact on the
    last one (the others hold NaN, as benchopt writes them)."""
    rows = []
    for solver, rep, speedups in runs:
        for stop, last in ((1, False), (2, True)):
            rows.append(dict(
                dataset_name="mlp[suites=wider]", solver_name=solver,
                idx_rep=rep, stop_val=stop,
                final_results=pack(artefact(speedups), force=True)
                if last else pack(math.nan, force=True)))
    return pd.DataFrame(rows)


def test_read_scores_and_score_table_from_a_result_table(tmp_path):
    rng = np.random.default_rng(1)
    runs = [(solver, rep, list(rng.normal(mean, 0.1, 4)))
            for solver, mean in (("slow", 0.5), ("fast", 2.0))
            for rep in range(5)]
    runs[0] = ("slow", 0, [0.5, 0.5, 10.0, 0.5])      # one censored-like
    path = tmp_path / "results.parquet"
    table(runs).to_parquet(path)
    scores = read_scores(path)
    assert len(scores) == 2 * 5 * 2 * 4          # solvers, reps, suites
    assert set(scores.suite) == {"in_distribution", "wider"}
    out = score_table(scores).set_index(["solver_name", "suite"])
    fast, slow = out.loc[("fast", "wider")], out.loc[("slow", "wider")]
    assert slow.high < fast.low                    # clearly apart
    assert fast.n_runs == 5 and fast.n_tasks == 20
    assert fast.strata == "stratified"
    assert 1.8 < fast.iqm < 2.2 and slow.iqm < 0.7   # the 10 is trimmed
    assert (out.censored_fraction == 0).all()


def test_a_table_without_per_task_values_says_so():
    with pytest.raises(ValueError, match="no 'final_results' column"):
        read_scores(pd.DataFrame({"solver_name": ["a"]}))
    with pytest.raises(ValueError, match="no per-task values"):
        read_scores(pd.DataFrame({"solver_name": ["a"], "idx_rep": [0],
                                  "dataset_name": ["d"],
                                  "final_results": [pack(math.nan,
                                                         force=True)]}))
    scores = pd.DataFrame({"solver_name": ["a"], "suite": ["s"],
                           "speedup_test": [1.0]})
    with pytest.raises(ValueError, match="no 'speedup_train'"):
        score_table(scores, metric="speedup_train")
