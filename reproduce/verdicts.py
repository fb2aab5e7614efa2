"""Verdicts computed from the parquet tables alone: one row per claim.

Every function takes ``results``, a mapping from a table's name (the file
name under ``OUT/results/`` without ``.parquet``) to its DataFrame, and
returns a :class:`Verdict` whose ``measured`` text and ``reproduced`` flag
are functions of those tables: nothing is typed in. The tests recompute
them with :func:`all_verdicts` from the parquet files.

Tables: ``meta_gradients`` and ``backprop_error`` (library, see
:mod:`reproduce.theory`); the others are ``benchopt run`` results (see
:mod:`reproduce.studies`), of which the final evaluation of each (dataset,
solver) run is used.
"""

from dataclasses import dataclass
import math
from pathlib import Path

import numpy as np
import pandas as pd

BREAK = 1e-3      # a meta-gradient or step size off by more is "wrong"


@dataclass(frozen=True)
class Verdict:
    """One row of REPRODUCTION.md."""

    key: str          # "1" ... "8c", "B1" ... "B3"
    claim: str        # what the paper (or the hypothesis) says
    paper: str        # where: paper figure / section
    source: str       # the table the number comes from
    measured: str     # the number measured now
    reproduced: bool  # the verdict, computed from the table


def load_results(folder):
    """``{name: DataFrame}`` of every ``*.parquet`` file of ``folder``."""
    return {p.stem: pd.read_parquet(p)
            for p in sorted(Path(folder).glob("*.parquet"))}


def _runs(df):
    """The columns that name one run: dataset, solver and, in tables with
    repetitions, the repetition."""
    return ["dataset_name", "solver_name"] + (
        ["idx_rep"] if "idx_rep" in df.columns else [])


def final(df):
    """The last evaluation of every (dataset, solver, repetition) run."""
    df = df.sort_values("stop_val", kind="stable")
    return df.groupby(_runs(df), sort=False).tail(1)


SEED_LEVEL = 0.95       # the confidence of the intervals over seeds
MIN_SEEDS = 3           # fewer: no interval, the point estimate decides


def seed_interval(values, level=SEED_LEVEL):
    """``(mean, low, high)`` of per-seed ``values``: the mean and its
    ``level`` percentile bootstrap interval over seeds (scipy's
    ``bootstrap``, resampling seeds, a fixed random state); with fewer
    than ``MIN_SEEDS`` seeds, ``low = high = NaN``."""
    from scipy.stats import bootstrap
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < MIN_SEEDS:
        return mean, math.nan, math.nan
    if np.ptp(x) == 0:              # every seed alike: nothing to resample
        return mean, mean, mean
    ci = bootstrap((x,), np.mean, confidence_level=level,
                   n_resamples=10_000, method="percentile",
                   random_state=np.random.default_rng(0)).confidence_interval
    return mean, float(ci.low), float(ci.high)


def above_zero(interval):
    """The interval excludes 0 from above (without one: the mean > 0)."""
    mean, low, _ = interval
    return bool(low > 0) if math.isfinite(low) else bool(mean > 0)


def _interval_text(interval):
    mean, low, high = interval
    fmt = "{:+.2g}".format
    if not math.isfinite(low):
        return fmt(mean)
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]"


def _g(x):
    """A number as text: integers as such (horizons, sample sizes), else
    two significant digits."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.2g}" if math.isfinite(x) else str(x)


def _seq(values):
    return ", ".join(_g(float(v)) for v in values)


# --- claims 1-3: closed forms and estimators, from the library ----------

def naive_explodes_or_vanishes(results):
    df = results["meta_gradients"]
    tab = df.pivot(index="eta_L", columns="horizon", values="naive")
    t0, t1 = tab.columns.min(), tab.columns.max()
    above, below = tab[tab.index >= 2.05], tab[tab.index <= 1.95]
    explodes = bool((above[t1] > above[t0]).all()
                    and tab.loc[2.1, t1] > 1e10 * tab.loc[2.1, t0])
    vanishes = bool((below[t1] < below[t0]).all()
                    and tab.loc[0.5, t1] < 1e-3 * tab.loc[0.5, t0])
    return Verdict(
        "1", "naive meta-gradient |F'| explodes for eta > 2/L and vanishes "
        "for eta < 2/L, exponentially in T", "Sec. 3",
        "library (closed form)",
        f"eta=2.1/L: {_g(tab.loc[2.1, t0])} (T={t0}) -> "
        f"{_g(tab.loc[2.1, t1])} (T={t1}); eta=0.5/L: "
        f"{_g(tab.loc[0.5, t0])} -> {_g(tab.loc[0.5, t1])}; grows with T "
        f"at all {len(above)} eta > 2/L, shrinks at all {len(below)} "
        "eta < 2/L", explodes and vanishes)


def log_gradient_bounded(results):
    df = results["meta_gradients"]
    sup = df.groupby("horizon")[["log", "naive"]].max()
    bounded = bool(np.isfinite(sup["log"]).all()
                   and sup["log"].max() < 10 * sup["log"].min())
    return Verdict(
        "2", "log meta-objective's |F'| stays below one constant for "
        "every T", "Sec. 3", "library (closed form)",
        f"sup over eta in (0, 3/L] of |F'|: {_seq(sup['log'])} for T = "
        f"{_seq(sup.index)} (naive: {_seq(sup['naive'])})", bounded)


def _first_break(df):
    """Smallest horizon where the relative error exceeds BREAK (inf if
    none), per row group."""
    broken = df[df.rel_error > BREAK]
    return float(broken.horizon.min()) if len(broken) else math.inf


def backprop_breaks(results):
    df = results["backprop_error"]
    bp = df[df.estimator == "backprop"]
    first = {dtype: _first_break(bp[bp.dtype == dtype])
             for dtype in ("float32", "float64")}
    stable_err = float(df[df.estimator == "stable"].rel_error.max())
    ok = (first["float32"] < first["float64"] < math.inf
          and stable_err < 1e-8)
    return Verdict(
        "3", "backprop through the unroll gets the log objective's "
        "meta-gradient wrong past a dtype-dependent T; the stable "
        "estimator stays exact", "Sec. 3 (experiments)",
        "library (estimators)",
        f"backprop off by > {BREAK:g} (or NaN) from T = "
        f"{_g(first['float32'])} (float32), {_g(first['float64'])} "
        f"(float64), T <= {int(df.horizon.max())}; stable: max rel. error "
        f"{_g(stable_err)}", bool(ok))


# --- claims 4-5: meta-training on quadratics (benchopt) -----------------

def stable_converges(results):
    df = final(results["paper_fig1"])
    stable = df[df.solver_name.str.contains("gradient=stable")]
    other = df[~df.solver_name.str.contains("gradient=stable")]
    err_s = stable.objective_step_size_rel_error
    failed = int((~(other.objective_step_size_rel_error < BREAK)).sum())
    eta0 = stable.p_solver_eta0.astype(float)
    ok = (len(stable) > 0 and bool((err_s < BREAK).all()) and failed > 0
          and eta0.max() >= 10 * eta0.min())
    return Verdict(
        "4", "meta-GD with the stable meta-gradient reaches eta* from "
        "eta0 = 0.1 and larger; backprop-based often does not",
        "Fig. 1", "benchopt: paper_fig1",
        f"stable: {int((err_s < BREAK).sum())}/{len(stable)} runs reach "
        f"eta* (max rel. error {_g(float(err_s.max()))}), eta0 in "
        f"{_seq(sorted(set(eta0)))}, T in "
        f"{_seq(sorted(set(stable.p_dataset_horizon)))}; backprop-based: "
        f"{failed}/{len(other)} do not", bool(ok))


def _eta_star_by_horizon(results):
    df = final(results["paper_fig2"])
    return {spectrum: part.sort_values("p_dataset_horizon")
            for spectrum, part in df.groupby("p_dataset_spectrum")}


def eta_star_depends_on_horizon(results):
    parts = _eta_star_by_horizon(results)
    texts, ok = [], True
    for spectrum, part in parts.items():
        eta = part.objective_eta_star.to_numpy()
        ratio = eta.max() / eta.min()
        ok &= bool(ratio > 1.2 and (part.objective_step_size_rel_error
                                    < BREAK).all())
        texts.append(f"{spectrum}: eta* x{ratio:.2f} from T = "
                     f"{part.p_dataset_horizon.min()} to "
                     f"{part.p_dataset_horizon.max()}")
    err = max(float(p.objective_step_size_rel_error.max())
              for p in parts.values())
    return Verdict(
        "5", "eta* changes with the horizon T", "Fig. 2",
        "benchopt: paper_fig2",
        "; ".join(texts) + f"; learned eta within {_g(err)} of eta*",
        bool(ok and parts))


# --- claims 6-7: train-by-train vs train-by-validation (benchopt) -------

def tbt_tbv(df, by):
    """Final excess risk of grid search on the training split (TbT) and
    on the validation split (TbV), indexed by dataset parameter ``by``."""
    df = final(df)
    df = df[df.solver_name.str.startswith("grid-search")]
    out = {}
    for split, name in (("split=train", "tbt"), ("split=validation", "tbv")):
        part = df[df.solver_name.str.contains(split)]
        out[name] = part.set_index(by).objective_excess_risk.sort_index()
    tab = pd.DataFrame(out)
    tab["gap"] = tab.tbt - tab.tbv
    return tab


def _gap_grows_with_noise(tab):
    gaps = tab.gap.to_numpy()
    top = tab.iloc[-1]
    return bool((np.diff(gaps) >= -1e-9).all() and gaps[-1] > 0.1
                and top.tbv < 1.0 < top.tbt)


def tbt_overfits(results):
    tab = tbt_tbv(results["paper_fig3"], "p_dataset_noise")
    return Verdict(
        "6", "least squares, n < d: TbT overfits, TbV does not; the gap "
        "grows with the noise", "Fig. 3", "benchopt: paper_fig3",
        f"excess risk TbT {_seq(tab.tbt)} vs TbV {_seq(tab.tbv)} for "
        f"noise {_seq(tab.index)}", _gap_grows_with_noise(tab))


def gap_shrinks_with_samples(results):
    df = results["paper_fig4"]
    dim = int(df.p_dataset_dim.iloc[0])
    tab = tbt_tbv(df, "p_dataset_n_samples")
    big = tab[tab.index >= dim]
    ok = bool(len(big) >= 2 and (np.diff(big.gap) < 0).all()
              and big.gap.iloc[-1] < 0.5 * tab.gap.max())
    return Verdict(
        "7", f"fixed noise: the TbT/TbV gap shrinks as n grows (n >= d = "
        f"{dim})", "Fig. 4", "benchopt: paper_fig4",
        f"gap {_seq(tab.gap)} for n = {_seq(tab.index)}", ok)


# --- claim 8: neural learned optimizer on MLP tasks (benchopt) ----------

def first(df):
    """The first evaluation of every (dataset, solver) run: for a
    meta-learning solver, its untrained start."""
    df = df.sort_values("stop_val", kind="stable")
    return df.groupby(_runs(df), sort=False).head(1)


_SETTING = ["p_dataset_n_samples", "p_dataset_label_noise"]


def _mlp_setting(results):
    """Per (n_samples, label_noise, repetition): final test loss and train
    accuracy of the neural optimizer meta-trained train-by-train (``tbt``)
    and train-by-validation (``tbv``), the test loss of its untrained start
    (the first evaluation of the TbV run: ``untrained``) and of tuned Adam
    (``adam``, NaN where the run has none)."""
    df = results["paper_mlp"]
    if "idx_rep" not in df.columns:
        df = df.assign(idx_rep=0)
    index = _SETTING + ["idx_rep"]
    neural = df[df.solver_name.str.startswith("neural-optimizer")]
    last = final(neural)
    last = last.assign(split=np.where(last.solver_name.str.contains(
        "split=train"), "tbt", "tbv"))
    tab = last.pivot_table(
        index=index, columns="split",
        values=["objective_value", "objective_train_accuracy"])
    start = first(neural[~neural.solver_name.str.contains("split=train")])
    tab[("objective_value", "untrained")] = start.groupby(
        index).objective_value.mean()
    adam = final(df[df.solver_name.str.startswith("adam")])
    tab[("objective_value", "adam")] = adam.groupby(
        index).objective_value.mean()
    return tab


def _mlp_row(tab, n, noise):
    """The seeds of one setting: ``loss`` (columns tbt, tbv, untrained,
    adam: test losses) and ``acc`` (tbt, tbv: train accuracies), one row
    per repetition."""
    rows = tab.xs((n, noise), level=(0, 1))
    return rows["objective_value"], rows["objective_train_accuracy"]


def _mlp_small(tab):
    n = tab.index.get_level_values(0).min()
    return n, tab.index.get_level_values(1).min()


def _gap(loss):
    """TbT - TbV test loss over seeds (> 0: TbT generalizes worse)."""
    return seed_interval(loss.tbt - loss.tbv)


def _learned(loss):
    """Untrained - TbV test loss over seeds (> 0: train-by-validation
    improved on its untrained start)."""
    return seed_interval(loss.untrained - loss.tbv)


def _losses_text(loss, gap, learned):
    """The seeds' mean losses and the intervals ``gap`` (:func:`_gap`)
    and ``learned`` (:func:`_learned`) as text."""
    seeds = len(loss)
    text = (f"test loss TbT {_g(loss.tbt.mean())} vs TbV "
            f"{_g(loss.tbv.mean())} (untrained start "
            f"{_g(loss.untrained.mean())}, tuned Adam "
            f"{_g(loss.adam.mean())}); TbT - TbV "
            f"{_interval_text(gap)}, untrained - TbV "
            f"{_interval_text(learned)}")
    if seeds >= MIN_SEEDS:
        return text + f" ({seeds} seeds, {SEED_LEVEL:.0%} intervals)"
    return text + f" ({seeds} seed{'s' * (seeds > 1)}: no interval)"


def mlp_small_data(results):
    tab = _mlp_setting(results)
    n, noise = _mlp_small(tab)
    loss, acc = _mlp_row(tab, n, noise)
    at, av = acc.tbt.mean(), acc.tbv.mean()
    gap, learned = _gap(loss), _learned(loss)
    return Verdict(
        "8a", "neural optimizer, small data: TbT fits the training set "
        "(train acc. >= 0.9) and generalizes worse than TbV (test loss); "
        "TbV improves on its untrained start", "Fig. 5",
        "benchopt: paper_mlp",
        f"n = {n}: {_losses_text(loss, gap, learned)}; train acc. "
        f"{_g(at)} vs {_g(av)}",
        bool(above_zero(gap) and at >= 0.9 and above_zero(learned)))


def mlp_label_noise(results):
    tab = _mlp_setting(results)
    n, _ = _mlp_small(tab)
    noise = tab.loc[n].index.get_level_values(0).max()
    loss, acc = _mlp_row(tab, n, noise)
    gap, learned = _gap(loss), _learned(loss)
    return Verdict(
        "8b", "small data with label noise: TbT overfits the noisy labels, "
        "TbV is much better and improves on its untrained start", "Fig. 6",
        "benchopt: paper_mlp",
        f"n = {n}, {noise:.0%} noise: {_losses_text(loss, gap, learned)}; "
        f"train acc. {_g(acc.tbt.mean())} vs {_g(acc.tbv.mean())}",
        bool(noise > 0 and above_zero(gap) and above_zero(learned)))


def _relative_gap(loss):
    return seed_interval((loss.tbt - loss.tbv) / loss.tbv)


CLOSE = 0.25        # "close": TbT within 25% of TbV's test loss


def mlp_more_data(results):
    """"Close": the relative gap (TbT - TbV) / TbV with more data has an
    interval over seeds that includes 0 or lies within +-``CLOSE``
    (without an interval: its mean does)."""
    tab = _mlp_setting(results)
    small = _mlp_small(tab)
    n = tab.index.get_level_values(0).max()
    loss, _ = _mlp_row(tab, n, 0.0)
    small_loss, _ = _mlp_row(tab, *small)
    gap, small_gap = _relative_gap(loss), _relative_gap(small_loss)
    learned = _learned(loss)
    mean, low, high = gap
    if math.isfinite(low):
        close = low <= 0 <= high or max(abs(low), abs(high)) <= CLOSE
    else:
        close = abs(mean) <= CLOSE
    return Verdict(
        "8c", f"more data: TbT and TbV are close (relative gap includes 0 "
        f"or within +-{CLOSE:.0%}); TbV improves on its untrained start",
        "Fig. 7", "benchopt: paper_mlp",
        f"n = {n}: {_losses_text(loss, _gap(loss), learned)}; relative "
        f"gap TbT/TbV "
        f"{_interval_text(gap)}, {_interval_text(small_gap)} at n = "
        f"{small[0]}",
        bool(n > small[0] and close and above_zero(learned)))


# --- beyond the paper ----------------------------------------------------

def horizon_generalization(results):
    df = final(results["horizon_generalization"])
    df = df[df.solver_name.str.contains("validation")
            | df.solver_name.str.startswith("train-by-validation")]
    eval_h = df.p_dataset_eval_horizon.astype(float)
    horizon = df.p_dataset_horizon.astype(float)
    eval_h = eval_h.where(eval_h.notna(), horizon)
    T, long = horizon.min(), horizon.max()
    moved = df[(horizon == T) & (eval_h == long)]
    learned = df[(horizon == long) & (eval_h == long)]
    a = moved.set_index("solver_name").objective_excess_risk
    b = learned.set_index("solver_name").objective_excess_risk
    ratio = (a / b).dropna()
    return Verdict(
        "B1", f"a step size meta-learned (TbV) at T = {T:.0f} does worse at "
        f"{long / T:.0f}T than one learned at {long / T:.0f}T",
        "beyond (Wu et al. 2018)", "benchopt: horizon_generalization",
        f"excess risk at T = {long:.0f}: {_seq(a)} (learned at {T:.0f}) "
        f"vs {_seq(b)} (learned at {long:.0f})",
        bool(len(ratio) > 0 and (ratio > 1.05).all()))


def short_horizon_bias(results):
    parts = _eta_star_by_horizon(results)
    texts, ok = [], bool(parts)
    for spectrum, part in parts.items():
        short, long = part.iloc[0], part.iloc[-1]
        ratio = short.objective_step_size / long.objective_eta_star
        ok &= bool(ratio < 0.9)
        texts.append(f"{spectrum}: eta learned at T = "
                     f"{short.p_dataset_horizon} is {ratio:.2f} x "
                     f"eta*(T = {long.p_dataset_horizon})")
    return Verdict(
        "B2", "short-horizon bias: eta learned at a small T is smaller "
        "than eta* at a large T", "beyond (Wu et al. 2018)",
        "benchopt: paper_fig2", "; ".join(texts), ok)


def stochastic_inner_loop(results):
    tab = tbt_tbv(results["stochastic_least_squares"], "p_dataset_noise")
    return Verdict(
        "B3", "Fig. 3 with mini-batch SGD as inner loop: TbT overfits, TbV "
        "does not, the gap grows with the noise", "beyond (Sec. 4 remark)",
        "benchopt: stochastic_least_squares",
        f"excess risk TbT {_seq(tab.tbt)} vs TbV {_seq(tab.tbv)} for "
        f"noise {_seq(tab.index)}", _gap_grows_with_noise(tab))


VERDICTS = (
    naive_explodes_or_vanishes, log_gradient_bounded, backprop_breaks,
    stable_converges, eta_star_depends_on_horizon, tbt_overfits,
    gap_shrinks_with_samples, mlp_small_data, mlp_label_noise,
    mlp_more_data, horizon_generalization, short_horizon_bias,
    stochastic_inner_loop,
)


def all_verdicts(results):
    """Every :class:`Verdict`, from ``results`` (a mapping or a folder)."""
    if not isinstance(results, dict):
        results = load_results(results)
    return [verdict(results) for verdict in VERDICTS]
