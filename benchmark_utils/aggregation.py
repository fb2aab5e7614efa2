"""Per-task scores out of benchopt's tables, and their aggregate with an
interval.

:func:`read_scores` turns a result table (a parquet file written by
``benchopt run``, or its DataFrame) into one row per (run, suite, task):
the per-task values the objective saved at the end of every run
(``save_final_results``, the ``final_results`` column of the run's last
row; see :mod:`benchmark_utils.held_out`).

:func:`score_table` aggregates a score over tasks and repetitions the way
rliable does (Agarwal et al., "Deep RL at the edge of the statistical
precipice", NeurIPS 2021): the **interquartile mean** (the mean of the
middle 50%, robust to a few outlying tasks) with a **95% stratified
percentile bootstrap interval**: the scores form a matrix of runs
(repetitions, ``idx_rep``) by task slots (dataset, suite, task index), and
each resample draws runs with replacement within every task slot
independently (:func:`iqm_interval`, with ``scipy.stats.bootstrap``, one
sample per slot; rliable itself needs ``arch`` and ``statsmodels``). Each
repetition draws new tasks, so a slot holds a different task in each run:
the interval is over repetitions (new tasks and a new meta-training run
each), stratified so that every slot keeps its weight. With a single
repetition the slots cannot be resampled: the interval is then over tasks
(one pooled stratum), and the table says so (``strata``).

Censored speedups (Adam never reached the loss within 10 T: counted as 10)
are reported as ``censored_fraction``; the interquartile mean ignores the
top quarter, so a few of them do not move it.
"""

import numpy as np
import pandas as pd
from scipy.stats import bootstrap, trim_mean

RUN_KEYS = ("dataset_name", "solver_name", "idx_rep")
PER_TASK = ("train_loss", "test_loss", "speedup_train", "censored_train",
            "speedup_test", "censored_test")


def _unpack(value):
    from benchopt.results.parquet import unpack

    return unpack(value)


def read_scores(table):
    """One row per (run, suite, task) from a benchopt result table (a path
    or a DataFrame): the ``RUN_KEYS``, ``suite``, ``task`` (index in the
    suite), ``horizon`` and the per-task values present (:data:`PER_TASK`).
    ValueError where the table holds no per-task values (a run without
    suites or score, or one written before they existed)."""
    df = pd.read_parquet(table) if not isinstance(table, pd.DataFrame) \
        else table
    if "final_results" not in df:
        raise ValueError(
            "the table has no 'final_results' column: its runs saved no "
            "per-task values (run a dataset with suites or score=True)")
    rows = []
    for _, run in df[df["final_results"].notna()].iterrows():
        artefact = _unpack(run["final_results"])
        if not isinstance(artefact, dict) or "suites" not in artefact:
            continue
        for suite, values in artefact["suites"].items():
            n = max(len(values.get(k, ())) for k in PER_TASK)
            for task in range(n):
                row = {key: run[key] for key in RUN_KEYS if key in run}
                row.update(suite=suite, task=task,
                           horizon=values.get("horizon"))
                for key in PER_TASK:
                    if key in values:
                        row[key] = values[key][task]
                rows.append(row)
    if not rows:
        raise ValueError("the table holds no per-task values")
    return pd.DataFrame(rows)


def interquartile_mean(x, axis=-1):
    """Mean of the middle 50% of ``x`` along ``axis``."""
    return trim_mean(x, 0.25, axis=axis)


def iqm_interval(strata, confidence=0.95, n_resamples=2000, seed=0):
    """``(iqm, low, high, kind)`` of the scores in ``strata`` (a list of
    1-d arrays, one per task slot, each holding that slot's runs).

    The interval is scipy's percentile bootstrap with each stratum
    resampled independently (``paired=False``); strata of fewer than 2
    runs cannot be resampled, so with any of those the scores are pooled
    into one stratum (``kind = "pooled"``; else ``"stratified"``).
    """
    strata = [np.asarray(s, dtype=np.float64) for s in strata if len(s)]
    if not strata:
        raise ValueError("no scores to aggregate")
    pooled = np.concatenate(strata)
    point = float(interquartile_mean(pooled))
    kind = "stratified"
    if min(len(s) for s in strata) < 2:
        strata, kind = [pooled], "pooled"
    if len(pooled) < 2 or np.ptp(pooled) == 0:
        return point, point, point, kind      # nothing varies

    def statistic(*samples, axis=-1):
        return interquartile_mean(np.concatenate(samples, axis=axis),
                                  axis=axis)

    res = bootstrap(tuple(strata), statistic, n_resamples=n_resamples,
                    confidence_level=confidence, method="percentile",
                    vectorized=True, paired=False,
                    rng=np.random.default_rng(seed))
    low, high = res.confidence_interval
    return point, float(low), float(high), kind


def score_table(scores, metric="speedup_test", by=("solver_name", "suite"),
                confidence=0.95, n_resamples=2000, seed=0):
    """One row per group of ``by``: the interquartile mean of ``metric``
    over the group's tasks and repetitions, its stratified bootstrap
    interval (``low``, ``high``; strata: the task slots (dataset, suite,
    task), runs: ``idx_rep``), ``n_runs``, ``n_tasks`` (scores) and
    ``censored_fraction`` (speedups at the cap, ``>= 10``)."""
    if metric not in scores:
        raise ValueError(f"no {metric!r} in the scores (columns: "
                         f"{sorted(scores.columns)})")
    censored = metric.replace("speedup", "censored")
    slot = [c for c in ("dataset_name", "suite", "task")
            if c in scores and c not in by]
    out = []
    for key, group in scores.dropna(subset=[metric]).groupby(list(by)):
        strata = [g[metric].to_numpy()
                  for _, g in group.groupby(slot)] if slot else [
                      group[metric].to_numpy()]
        point, low, high, kind = iqm_interval(strata, confidence,
                                              n_resamples, seed)
        row = dict(zip(by, key if isinstance(key, tuple) else (key,)))
        row.update(metric=metric, iqm=point, low=low, high=high,
                   strata=kind,
                   n_runs=int(group["idx_rep"].nunique())
                   if "idx_rep" in group else 1,
                   n_tasks=len(group))
        if censored != metric and censored in group:
            row["censored_fraction"] = float(group[censored].mean())
        out.append(row)
    return pd.DataFrame(out)
