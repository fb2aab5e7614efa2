"""Every meta-gradient estimator held against the exact meta-gradient.

On quadratics the ``stable`` estimator gives the exact derivative ``g*`` of
the log meta-objective ``F = mean_j (1/T) log f_j(w_T)`` in gradient
descent's ``theta = log eta`` for any T, so each estimator ``g`` can be
scored, cell by cell over the horizon T, the step size eta (below, near and
past 2/L) and the dtype of the unrolled computation, from R independent
estimates (1 for deterministic ones); relative figures are the same in eta
(``dF/dtheta = eta dF/deta``)::

    rel_bias   = (mean(g) - g*) / |g*|           (finite estimates only)
    rel_std    = std(g) / |g*|                   (ddof = 1; 0 if R = 1)
    rel_rmse   = sqrt(mean((g - g*)^2)) / |g*|   (inf if any g failed)
    sign_agreement = share of estimates with sign(g) = sign(g*)
                     (theta = eta is a scalar: cosine = sign; a
                     non-finite estimate counts as a disagreement)
    failures   = share of estimates that are not finite
    cost       = inner-gradient evaluations of one estimate
    peak_mb    = peak resident memory added by one estimate (Linux:
                 /proc/self/status VmHWM after resetting it; NaN
                 elsewhere), measured once per (estimator, T, dtype) at
                 eta L = 0.5 in a fresh process (in the same process in
                 quick mode: a heap fragmented by earlier estimates makes
                 that figure approximate)

Then :func:`meta_training` runs :class:`~benchmark_utils.meta_train.
MetaTrainer` with each estimator from the same start and records
``|eta - eta*| / eta*`` per meta-step.

Command line (writes CSV, JSON and PNG figures into ``--out``)::

    python -m studies.estimator_comparison [--quick] [--out DIR]
"""

import argparse
import csv
import json
import math
from pathlib import Path
import subprocess
import sys
import time

import torch

from benchmark_utils.meta_gradients import ESTIMATORS as REGISTRY
from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_optimizers import make_meta_optimizer
from benchmark_utils.meta_solver import meta_problem
from benchmark_utils.meta_train import MetaTrainer
from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tasks import make_generator, make_quadratic_tasks

from .memory import PeakMemory

# (label, estimator, options)
COMPARED = [
    ("stable", "stable", {}),
    ("backprop", "backprop", {}),
    ("forward", "forward", {}),
    ("truncated(K=10)", "truncated", dict(truncation=10)),
    ("greedy", "greedy", {}),
    ("es(sigma=0.1)", "es", dict(sigma=0.1, pairs=8)),
    ("es(sigma=0.01)", "es", dict(sigma=0.01, pairs=8)),
    ("pes(K=10,sigma=0.1)", "pes",
     dict(truncation=10, sigma=0.1, pairs=8)),
]

# repeats of stochastic estimators: 8, and 2 at T = 10000 (2 CPU cores)
FULL = dict(horizons=(10, 100, 1000, 10000), etas_times_L=(0.5, 1.9, 2.1),
            dtypes=("float32", "float64"), repeats=8, long_repeats=2,
            n_tasks=4, dim=20, train_horizons=(100, 1000), meta_steps=40,
            adam_horizons=(100,), adam_steps=150)
QUICK = dict(horizons=(10, 100), etas_times_L=(0.5, 2.1),
             dtypes=("float32", "float64"), repeats=3, long_repeats=3,
             n_tasks=2, dim=10, train_horizons=(30,), meta_steps=25,
             adam_horizons=(), adam_steps=0, pairs=2)


def problem_at(tasks, horizon):
    """The log objective of GD's step size on ``tasks`` (train-by-train)."""
    return meta_problem(tasks, GradientDescent(), "log", "train", horizon)


def theta_at(eta):
    """GD's ``theta = log eta``."""
    return GradientDescent().theta_from(step_size=eta)


def task_family(dtype, n_tasks, dim, seed=0):
    """Quadratics with eigenvalues in [0.01, 1] (L = 1), as in
    ``configs/backprop_breakdown.yml``, stored in ``dtype``."""
    return make_quadratic_tasks(n_tasks, dim, "linspace", 100.0,
                                make_generator(seed),
                                getattr(torch, dtype))


def _estimators(quick):
    out = []
    for label, name, options in COMPARED:
        if quick and label == "es(sigma=0.01)":
            continue
        if quick and "pairs" in options:
            options = dict(options, pairs=QUICK["pairs"])
        out.append((label, name, options))
    return out


def _settings(label):
    (setting,) = [s for s in COMPARED if s[0] == label]
    return setting


def peak_memory(label, horizon, dtype, fresh=True, quick=False):
    """``peak_mb`` of one estimate of ``label`` at eta L = 0.5 (see the
    module docstring); ``fresh``: in a new Python process."""
    cfg = QUICK if quick else FULL
    if fresh:
        proc = subprocess.run(
            [sys.executable, "-m", "studies.estimator_comparison",
             "--measure-memory", label, str(horizon), dtype]
            + (["--quick"] if quick else []),
            capture_output=True, text=True, check=True)
        return float(proc.stdout.split()[-1])
    _, name, options = _settings(label)
    if quick and "pairs" in options:
        options = dict(options, pairs=QUICK["pairs"])
    tasks = task_family(dtype, cfg["n_tasks"], cfg["dim"])
    problem = problem_at(tasks, horizon)
    theta = theta_at(0.5)
    warm = (problem_at(tasks, 2) if name not in ("truncated", "pes")
            else problem)
    _estimate(_estimator(name, options, seed=0), warm, theta)   # warm up
    with PeakMemory() as mem:
        _estimate(_estimator(name, options, seed=0), problem, theta)
    return mem.mb


def _estimate(estimator, problem, theta):
    """One estimate from a fresh estimator state."""
    state = estimator.init_state(problem, theta)
    return estimator.estimate(problem, theta, state)[0]


def _estimator(name, options, seed):
    if REGISTRY[name].stochastic:
        options = dict(options, seed=seed)
    return get_estimator(name, **options)


def score(estimates, exact):
    """The scores of module docstring from a list of float estimates."""
    n = len(estimates)
    finite = [g for g in estimates if math.isfinite(g)]
    scale = abs(exact)
    out = dict(exact=exact, repeats=n, failures=(n - len(finite)) / n,
               sign_agreement=sum(
                   math.isfinite(g) and (g > 0) == (exact > 0)
                   for g in estimates) / n)
    if finite:
        mean = sum(finite) / len(finite)
        var = (sum((g - mean) ** 2 for g in finite) / (len(finite) - 1)
               if len(finite) > 1 else 0.0)
        out.update(mean=mean, rel_bias=(mean - exact) / scale,
                   rel_std=math.sqrt(var) / scale)
    else:
        out.update(mean=math.nan, rel_bias=math.nan, rel_std=math.nan)
    out["rel_rmse"] = (
        math.sqrt(sum((g - exact) ** 2 for g in finite) / n) / scale
        if len(finite) == n else math.inf)
    return out


def compare(quick=False, log=print):
    """One row per (estimator, T, eta, dtype): see the module docstring."""
    cfg = QUICK if quick else FULL
    rows, peaks = [], {}
    reference = task_family("float64", cfg["n_tasks"], cfg["dim"])
    for dtype in cfg["dtypes"]:
        tasks = task_family(dtype, cfg["n_tasks"], cfg["dim"])
        for T in cfg["horizons"]:
            for eta_L in cfg["etas_times_L"]:
                theta = theta_at(eta_L)                       # L = 1
                exact = float(_estimate(get_estimator("stable"),
                                        problem_at(reference, T),
                                        theta).grad)
                problem = problem_at(tasks, T)
                for label, name, options in _estimators(quick):
                    if options.get("truncation", 0) > T:
                        continue
                    repeats = 1
                    if REGISTRY[name].stochastic:
                        repeats = cfg["repeats" if T < 10000
                                      else "long_repeats"]
                    estimates, seconds = [], 0.0
                    for r in range(repeats):
                        est = _estimator(name, options, seed=r)
                        start = time.perf_counter()
                        mg = _estimate(est, problem, theta)
                        seconds += time.perf_counter() - start
                        estimates.append(float(mg.grad))
                    key = (label, T, dtype)
                    if key not in peaks:
                        peaks[key] = peak_memory(label, T, dtype,
                                                 fresh=not quick,
                                                 quick=quick)
                    peak = peaks[key]
                    row = dict(estimator=label, horizon=T, eta_times_L=eta_L,
                               dtype=dtype,
                               cost=mg.inner_gradient_evaluations,
                               peak_mb=peak, seconds=seconds / repeats,
                               **score(estimates, exact))
                    rows.append(row)
                    log(f"{label:>22} T={T:<6} etaL={eta_L} {dtype}: "
                        f"bias {row['rel_bias']:.2e} std "
                        f"{row['rel_std']:.2e} fail {row['failures']:.2f}")
    return rows


def meta_training(quick=False, log=print):
    """Meta-train eta from eta0 = 0.1 with every estimator, with the
    default meta-optimizer (``brent``) and with Adam (lr 0.02 in ``log
    eta``, at the shorter horizons only); returns one
    record per (estimator, T, meta-optimizer) with the trajectory of
    ``|eta - eta*| / eta*``."""
    cfg = QUICK if quick else FULL
    tasks = task_family("float64", cfg["n_tasks"], cfg["dim"])
    runs = []
    for T in cfg["train_horizons"]:
        eta_star = tasks.optimal_step_size(T)
        problem = problem_at(tasks, T)
        plans = [("brent", None, cfg["meta_steps"])]
        if T in cfg["adam_horizons"]:
            plans.append(("adam", 0.02, cfg["adam_steps"]))
        for meta_opt, lr, steps in plans:
            for label, name, options in _estimators(quick):
                if options.get("truncation", 0) > T:
                    continue
                trainer = MetaTrainer(
                    problem, _estimator(name, options, seed=0),
                    make_meta_optimizer(meta_opt, lr, problem.optimizer),
                    theta_at(0.1))
                errors = []
                start = time.perf_counter()
                while trainer.meta_steps < steps and not trainer.stalled:
                    trainer.step()
                    eta = math.exp(float(trainer.theta))
                    errors.append(abs(eta - eta_star) / eta_star)
                run = dict(
                    estimator=label, horizon=T, meta_optimizer=meta_opt,
                    eta_star=eta_star,
                    final_eta=math.exp(float(trainer.theta)),
                    final_rel_error=errors[-1], meta_steps=len(errors),
                    failures=trainer.failures,
                    steps_to_1e_2=_first_below(errors, 1e-2),
                    steps_to_1e_6=_first_below(errors, 1e-6),
                    inner_gradient_evaluations=(
                        trainer.inner_gradient_evaluations),
                    seconds=time.perf_counter() - start, errors=errors)
                runs.append(run)
                log(f"{label:>22} T={T} {meta_opt}: eta {run['final_eta']:.4g}"
                    f" (eta* {eta_star:.4g}), rel error "
                    f"{run['final_rel_error']:.1e} after {len(errors)} steps")
    return runs


def _first_below(errors, level):
    """First meta-step (1-based) from which the error stays below level."""
    for k in range(len(errors)):
        if all(e < level for e in errors[k:]):
            return k + 1
    return None


def write_tables(rows, runs, out):
    """``estimators.csv`` (the comparison), ``meta_training.csv`` and
    ``estimators.json`` (both, with trajectories) into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for name, table in (("estimators.csv", rows),
                        ("meta_training.csv",
                         [{k: v for k, v in r.items() if k != "errors"}
                          for r in runs])):
        with open(out / name, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(table[0]))
            writer.writerows([_fmt(v) for v in r.values()] for r in table)
    (out / "estimators.json").write_text(json.dumps(
        dict(comparison=rows, meta_training=runs), indent=1, default=str))


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def plot(rows, runs, out):
    """PNG figures: relative RMSE and cost/memory against T, and the
    meta-training trajectories. Needs matplotlib (extra ``figures``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["estimator"] for r in rows))
    etas = sorted({r["eta_times_L"] for r in rows})
    dtypes = sorted({r["dtype"] for r in rows})
    fig, axes = plt.subplots(len(dtypes), len(etas), sharex=True,
                             sharey=True, squeeze=False,
                             figsize=(3.2 * len(etas), 2.6 * len(dtypes)))
    for (i, dtype), (j, eta) in ((a, b) for a in enumerate(dtypes)
                                 for b in enumerate(etas)):
        ax = axes[i][j]
        for label in labels:
            cell = [r for r in rows if r["estimator"] == label
                    and r["dtype"] == dtype and r["eta_times_L"] == eta]
            ys = [min(r["rel_rmse"], 1e3) if math.isfinite(r["rel_rmse"])
                  else 1e3 for r in cell]
            ax.plot([r["horizon"] for r in cell],
                    [max(y, 1e-17) for y in ys], "o-", ms=3, label=label)
        ax.set(xscale="log", yscale="log",
               title=f"{dtype}, eta L = {eta}")
        ax.axhline(1.0, color="gray", lw=0.5)
    for ax in axes[-1]:
        ax.set_xlabel("horizon T")
    for row in axes:
        row[0].set_ylabel("rel. RMSE (1e3 = failed)")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "estimators_error.png", dpi=70)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    cells = [r for r in rows if r["dtype"] == "float64"
             and r["eta_times_L"] == etas[0]]
    for label in labels:
        cell = [r for r in cells if r["estimator"] == label]
        ts = [r["horizon"] for r in cell]
        axes[0].plot(ts, [r["cost"] for r in cell], "o-", ms=3,
                     label=label)
        axes[1].plot(ts, [max(r["peak_mb"], 0.05) for r in cell], "o-",
                     ms=3, label=label)
    axes[0].set(xscale="log", yscale="log", xlabel="horizon T",
                ylabel="inner-gradient evaluations")
    axes[1].set(xscale="log", yscale="log", xlabel="horizon T",
                ylabel="peak memory added (MB)")
    axes[1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "estimators_cost.png", dpi=70)
    plt.close(fig)

    groups = list(dict.fromkeys((r["horizon"], r["meta_optimizer"])
                                for r in runs))
    fig, axes = plt.subplots(1, len(groups), squeeze=False,
                             figsize=(3.6 * len(groups), 3))
    for ax, (T, meta_opt) in zip(axes[0], groups):
        for r in runs:
            if (r["horizon"], r["meta_optimizer"]) == (T, meta_opt):
                ax.plot(range(1, len(r["errors"]) + 1),
                        [max(e, 1e-16) for e in r["errors"]],
                        label=r["estimator"])
        ax.set(yscale="log", xlabel="meta-step", title=f"T={T}, {meta_opt}")
    axes[0][0].set_ylabel("|eta - eta*| / eta*")
    axes[0][-1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "estimators_meta_training.png", dpi=70)
    plt.close(fig)


def planned_work(quick=False):
    """The weight of each line :func:`compare` then :func:`meta_training`
    log, in their order (the progress bar's steps): about the inner
    gradients they evaluate (``stable``: 4 an estimate, others T, the
    stochastic ones ``2 pairs`` unrolls), times the repeats or
    meta-steps."""
    cfg = QUICK if quick else FULL

    def stochastic(name):
        return REGISTRY[name].stochastic

    def cost(name, options, T):
        if name == "stable":
            return 4
        return T * (2 * options.get("pairs", 8) if stochastic(name) else 1)

    weights = []
    for _dtype in cfg["dtypes"]:
        for T in cfg["horizons"]:
            repeats = cfg["repeats" if T < 10000 else "long_repeats"]
            for _eta in cfg["etas_times_L"]:
                weights += [cost(name, options, T)
                            * (repeats if stochastic(name) else 1)
                            for _, name, options in _estimators(quick)
                            if options.get("truncation", 0) <= T]
    for T in cfg["train_horizons"]:
        steps = [cfg["meta_steps"]] + (
            [cfg["adam_steps"]] if T in cfg["adam_horizons"] else [])
        for n in steps:
            weights += [cost(name, options, T) * n
                        for _, name, options in _estimators(quick)
                        if options.get("truncation", 0) <= T]
    return weights


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small grid (T <= 100), for the test suite")
    parser.add_argument("--out", default="outputs/estimators",
                        help="folder for the CSV, JSON and PNG files")
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("--measure-memory", nargs=3,
                        metavar=("LABEL", "T", "DTYPE"),
                        help="print the peak_mb of one estimate and exit")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.measure_memory:
        label, horizon, dtype = args.measure_memory
        print(peak_memory(label, int(horizon), dtype, fresh=False,
                          quick=args.quick))
        return None
    out = Path(args.out)
    # a progress bar on a terminal (reproduce/progress.py): one step a line
    from reproduce.progress import Progress
    weights = planned_work(args.quick)
    with Progress(sum(weights), "estimators") as bar:
        pending = iter(weights)

        def log(message):
            bar.advance(next(pending, 0))
            bar.write(message)

        bar.describe("comparison")
        rows = compare(args.quick, log=log)
        bar.describe("meta-training")
        runs = meta_training(args.quick, log=log)
    write_tables(rows, runs, out)
    if not args.no_figures:
        plot(rows, runs, out)
    print(f"wrote {out}/estimators.csv, meta_training.csv, estimators.json"
          + ("" if args.no_figures else " and estimators_*.png"))
    return rows, runs


if __name__ == "__main__":
    main()
