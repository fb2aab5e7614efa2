"""The figures: one small PNG per claim (or group of claims), drawn from
the same parquet tables as the verdicts (:mod:`reproduce.verdicts`)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from studies.labels import short_label as short  # noqa: E402

from .verdicts import _eta_star_by_horizon, final, tbt_tbv  # noqa: E402

DPI = 80


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def meta_gradients(results, path):
    """Claims 1-2: |F'| of the naive and log objectives vs eta L and T."""
    df = results["meta_gradients"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, kind, title in zip(axes, ("naive", "log"),
                               ("naive f(w_T)", "log (1/T) log f(w_T)")):
        for T, part in df.groupby("horizon"):
            y = part[kind].replace(np.inf, np.nan)
            ax.plot(part.eta_L, y, label=f"T = {T}")
        ax.axvline(2.0, ls=":", color="gray")
        ax.set_yscale("log")
        ax.set_xlabel("eta L (dotted: eta = 2/L)")
        ax.set_title(f"|meta-gradient|, {title}", fontsize=9)
    axes[0].set_ylim(1e-30, 1e90)
    axes[0].legend(fontsize=7)
    _save(fig, path)


def backprop_error(results, path):
    """Claim 3: relative error of backprop vs T, float32 and float64."""
    df = results["backprop_error"]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for (est, dtype, x), part in df.groupby(["estimator", "dtype", "eta_L"]):
        err = part.rel_error.clip(lower=1e-17).replace(np.inf, 1e3)
        ax.plot(part.horizon, err, marker="o", ms=3,
                ls="-" if est == "backprop" else "--",
                label=f"{est} {dtype}, eta = {x}/L")
    ax.axhline(1e3, color="gray", lw=0.5)
    ax.text(df.horizon.min(), 2e3, "NaN / inf", fontsize=7)
    ax.set(xscale="log", yscale="log", xlabel="horizon T",
           ylabel="relative error of d/deta (1/T) log f(w_T)")
    ax.legend(fontsize=6)
    _save(fig, path)


def meta_training(results, path):
    """Claim 4: |eta - eta*| / eta* against meta-iterations (Fig. 1)."""
    df = results["paper_fig1"]
    horizons = sorted(df.p_dataset_horizon.unique())
    fig, axes = plt.subplots(1, len(horizons), figsize=(9, 3.4),
                             squeeze=False)
    for ax, T in zip(axes[0], horizons):
        part = df[df.p_dataset_horizon == T]
        for solver, curve in part.groupby("solver_name"):
            curve = curve.sort_values("stop_val")
            err = curve.objective_step_size_rel_error.clip(lower=1e-16)
            style = "-" if "gradient=stable" in solver else ":"
            label = short(solver).replace("meta_optimizer=", "")
            ax.plot(curve.stop_val.clip(lower=1), err, style, label=label)
        ax.set(xscale="log", yscale="log", xlabel="meta-iteration",
               ylabel="|eta - eta*| / eta*", title=f"T = {T}")
    axes[0][-1].legend(fontsize=5, loc="center left",
                       bbox_to_anchor=(1.0, 0.5))
    _save(fig, path)


def eta_star(results, path):
    """Claim 5 and the short-horizon bias: eta* and learned eta vs T."""
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for spectrum, part in _eta_star_by_horizon(results).items():
        ax.plot(part.p_dataset_horizon, part.objective_eta_star, "-",
                label=f"eta* ({spectrum})")
        ax.plot(part.p_dataset_horizon, part.objective_step_size, "x",
                label=f"learned ({spectrum})")
    ax.set(xscale="log", yscale="log", xlabel="horizon T",
           ylabel="step size")
    ax.legend(fontsize=7)
    _save(fig, path)


def _tbt_tbv_plot(tab, xlabel, path, title):
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot(tab.index, tab.tbt, "o-", label="train-by-train")
    ax.plot(tab.index, tab.tbv, "s-", label="train-by-validation")
    ax.axhline(1.0, ls=":", color="gray", label="w = 0")
    ax.set(xscale="log", yscale="log", xlabel=xlabel,
           ylabel="test excess risk ||w_T - w*||^2", title=title)
    ax.legend(fontsize=7)
    _save(fig, path)


def tbt_tbv_noise(results, path, name="paper_fig3", title="GD"):
    """Claims 6 and B3: excess risk of TbT and TbV against the noise."""
    _tbt_tbv_plot(tbt_tbv(results[name], "p_dataset_noise"), "noise sigma",
                  path, title)


def tbt_tbv_samples(results, path):
    """Claim 7: excess risk of TbT and TbV against n."""
    _tbt_tbv_plot(tbt_tbv(results["paper_fig4"], "p_dataset_n_samples"),
                  "number of samples n", path, "noise 1")


def mlp(results, path):
    """Claim 8: test loss and train accuracy of every solver per setting:
    the mean over repetitions, the whiskers their range."""
    setting = ["p_dataset_n_samples", "p_dataset_label_noise"]
    df = final(results["paper_mlp"])
    settings = sorted(df.groupby(setting).groups)
    solvers = sorted(df.solver_name.unique())
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    width = 0.8 / len(solvers)
    for i, solver in enumerate(solvers):
        by_setting = df[df.solver_name == solver].groupby(setting)
        x = np.arange(len(settings)) + i * width
        for ax, col in zip(axes, ("objective_value",
                                  "objective_train_accuracy")):
            stats = by_setting[col].agg(["mean", "min", "max"])
            stats = stats.reindex(settings)
            ax.bar(x, stats["mean"], width, label=short(solver),
                   yerr=[stats["mean"] - stats["min"],
                         stats["max"] - stats["mean"]],
                   error_kw=dict(lw=0.6, capsize=1.5))
    for ax, ylabel in zip(axes, ("test cross-entropy", "train accuracy")):
        ax.set_xticks(np.arange(len(settings)) + 0.4 - width / 2)
        ax.set_xticklabels([f"n={n}\nnoise={p:g}" for n, p in settings],
                           fontsize=7)
        ax.set_ylabel(ylabel)
    axes[1].legend(fontsize=6, loc="lower right")
    _save(fig, path)


def horizon(results, path):
    """B1: excess risk at T and 10T of steps learned at T and at 10T."""
    df = final(results["horizon_generalization"])
    horizon_ = df.p_dataset_horizon.astype(float)
    eval_h = df.p_dataset_eval_horizon.astype(float)
    df = df.assign(learned_at=horizon_, run_for=eval_h.where(
        eval_h.notna(), horizon_))
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    labels = []
    for i, ((learned, run_for), part) in enumerate(
            df.groupby(["learned_at", "run_for"])):
        labels.append(f"learned at {learned:.0f}\nrun for {run_for:.0f}")
        for j, (solver, row) in enumerate(part.groupby("solver_name")):
            ax.bar(i + 0.25 * j, row.objective_excess_risk.iloc[0], 0.25,
                   color=f"C{j}", label=short(solver) if i == 0
                   else None)
    ax.set_xticks(np.arange(len(labels)) + 0.25)
    ax.set_xticklabels(labels, fontsize=7)
    ax.axhline(1.0, ls=":", color="gray")
    ax.set_ylabel("test excess risk")
    ax.legend(fontsize=6)
    _save(fig, path)


FIGURES = {
    "meta_gradients.png": meta_gradients,
    "backprop_error.png": backprop_error,
    "meta_training.png": meta_training,
    "eta_star.png": eta_star,
    "tbt_tbv_noise.png": tbt_tbv_noise,
    "tbt_tbv_samples.png": tbt_tbv_samples,
    "mlp.png": mlp,
    "horizon_generalization.png": horizon,
    "stochastic_tbt_tbv.png": lambda r, p: tbt_tbv_noise(
        r, p, "stochastic_least_squares", "mini-batch SGD (batch 50)"),
}


def draw_all(results, folder):
    """Draw every figure into ``folder``; return the paths."""
    paths = []
    for name, draw in FIGURES.items():
        path = folder / name
        draw(results, path)
        paths.append(path)
    return paths
