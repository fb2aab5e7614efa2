"""The learned-optimizer generalization table: every learned optimizer
and the tuned references, scored on held-out meta-test suites against
learning-rate-tuned Adam, over repetitions, with intervals.

One command runs ``configs/l2o_generalization.yml`` through ``benchopt
run`` (its result page is written as usual) and turns the parquet table
into the table and the figure::

    python -m studies.l2o_generalization [--quick] [--from PARQUET]
                                          [--out DIR]

``--quick``: the same comparison at toy sizes (2 repetitions, tiny
networks, 2 meta-steps), what the tests run. ``--from``: aggregate an
existing table (or several, concatenated: runs of the same config split
over solvers) instead of running. The full run's table is
``outputs/l2o_generalization.parquet``.

What it writes into ``--out`` (default ``docs/l2o_generalization``):

- ``scores.csv``: one row per (solver, suite, loss): the interquartile
  mean of the speedup over tuned Adam (``benchmark_utils.scoring``) over
  the suite's tasks and the repetitions, its 95% stratified bootstrap
  interval (``benchmark_utils.aggregation.score_table``), the number of
  runs and of scores, and the censored fraction (Adam never reached the
  loss within 10 T: the speedup is ">= 10");
- ``budgets.csv``: per solver, the meta-training budget actually spent:
  meta-steps, inner-gradient evaluations and seconds (benchopt's ``time``
  at the final evaluation), median and range over repetitions;
- ``table.md``: both as Markdown, the speedup as ``iqm [low, high]``;
- ``score_per_suite.png``: the test-loss speedup per suite and per
  solver with its interval (the figure of the README; the result page's
  *Speedup over tuned Adam per suite* view draws the same numbers).

The suites a run could not build (MNIST absent offline) are listed as
skipped under the table.
"""

import argparse
import os
from pathlib import Path
import subprocess
import sys

import numpy as np
import pandas as pd

from benchmark_utils.aggregation import read_scores, score_table
from benchmark_utils.result_plots import short_labels

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "l2o_generalization.yml"
OUT = ROOT / "docs" / "l2o_generalization"
QUICK = """\
n-repetitions: 2
timeout: 600
dataset:
  - mlp:
      n_samples: 40
      n_test: 40
      hidden: 8
      horizon: 8
      n_train_tasks: 2
      n_test_tasks: 2
      suites: [[wider, mnist]]
      score: true
solver:
  - adam
  - "neural-optimizer[split=validation,truncation=4,hidden=8,\
max_meta_steps=2,device=cpu]"
  - "lstm-optimizer[truncation=4,hidden=4,max_meta_steps=2,device=cpu]"
  - "learnable-adam[max_meta_steps=2]"
"""
LOSSES = ("test", "train")


def run(config, output):
    """``benchopt run`` of ``config`` into ``output`` (a parquet path);
    raises with benchopt's output if it fails. A crashing solver fails the
    run (``BENCHOPT_RAISE_ON_ERROR``): a table with a hole would read as a
    result."""
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true")
    # benchopt renders the result page of a table under its outputs/ only
    page = (["--no-display"] if Path(output).resolve().is_relative_to(
        ROOT / "outputs") else ["--no-plot"])
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(config), "--no-cache", *page, "--output", str(output)],
        env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchopt run failed:\n{proc.stdout[-4000:]}\n"
                           f"{proc.stderr[-4000:]}")
    return output


def read(tables):
    """One DataFrame of one or several parquet result tables."""
    if isinstance(tables, (str, Path)):
        tables = [tables]
    return pd.concat([pd.read_parquet(t) for t in tables], ignore_index=True)


def scores(table):
    """(per-suite score rows, labels, skipped suites) of result tables."""
    df = read(table)
    labels = short_labels(df)
    per_task = read_scores(df)
    rows = []
    for loss in LOSSES:
        metric = f"speedup_{loss}"
        if metric in per_task:
            rows.append(score_table(per_task, metric=metric).assign(
                loss=loss))
    if not rows:
        raise ValueError("the table holds no speedups: run with score=True")
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "solver", out["solver_name"].map(labels))
    return out, labels, skipped_suites(df)


def skipped_suites(df):
    from benchopt.results.parquet import unpack

    skipped = {}
    for value in df.get("final_results", pd.Series()).dropna():
        artefact = unpack(value)
        if isinstance(artefact, dict):
            skipped.update(artefact.get("skipped", {}) or {})
    return skipped


def budgets(table, labels):
    """Per solver: meta-steps, inner-gradient evaluations and seconds at
    each repetition's final evaluation, median and range."""
    df = read(table)
    last = df.loc[df.groupby(["solver_name", "idx_rep"])["stop_val"]
                  .idxmax()]
    rows = []
    for solver, group in last.groupby("solver_name"):
        row = {"solver": labels[solver], "n_runs": len(group)}
        for name, column in (("meta_steps", "stop_val"),
                             ("inner_gradient_evaluations",
                              "objective_inner_gradient_evaluations"),
                             ("seconds", "time")):
            values = group[column].astype(float) if column in group else \
                pd.Series([np.nan])
            row[name] = float(values.median())
            row[f"{name}_min"] = float(values.min())
            row[f"{name}_max"] = float(values.max())
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(table, budget, skipped):
    """The score tables (one per loss; solvers by rows, suites by columns)
    and the budget table, as Markdown."""
    lines = []
    for loss in LOSSES:
        part = table[table["loss"] == loss]
        if part.empty:
            continue
        suites = _suites(part)
        lines += [f"Speedup over tuned Adam on the {loss} loss "
                  "(interquartile mean [95% interval]; 1 = tuned Adam):",
                  "", "| solver | " + " | ".join(suites) + " |",
                  "|---|" + "---|" * len(suites)]
        for solver, group in part.groupby("solver", sort=True):
            cells = group.set_index("suite")
            lines.append(f"| {solver} | " + " | ".join(
                _cell(cells.loc[s]) if s in cells.index else ""
                for s in suites) + " |")
        lines.append("")
    lines += ["Meta-training budget per run (median [min, max] over "
              "repetitions):", "",
              "| solver | runs | meta-steps | inner-gradient evaluations "
              "| seconds |", "|---|---|---|---|---|"]
    for _, row in budget.iterrows():
        lines.append(
            f"| {row['solver']} | {row['n_runs']} | "
            + " | ".join(_range(row, k) for k in (
                "meta_steps", "inner_gradient_evaluations", "seconds"))
            + " |")
    if skipped:
        lines += ["", "Skipped suites: " + "; ".join(
            f"{name} ({reason})" for name, reason in sorted(
                skipped.items()))]
    return "\n".join(lines) + "\n"


def _suites(part):
    """The suites of ``part``, in-distribution first, then in the order
    the runs saved them."""
    present = set(part["suite"])
    return [s for s in dict.fromkeys(["in_distribution", *part["suite"]])
            if s in present]


def _cell(row):
    censored = row.get("censored_fraction", 0.0)
    flag = f" ({censored:.0%} >= 10)" if censored and censored > 0 else ""
    return f"{row['iqm']:.2f} [{row['low']:.2f}, {row['high']:.2f}]{flag}"


def _range(row, key):
    median, low, high = row[key], row[f"{key}_min"], row[f"{key}_max"]
    if np.isnan(median):
        return ""
    fmt = "{:.0f}" if key != "seconds" else "{:.1f}"
    text = fmt.format(median)
    if high > low:
        text += f" [{fmt.format(low)}, {fmt.format(high)}]"
    return text


def figure(table, path, loss="test"):
    """Speedup per suite (x) and per solver (one marker each, offset),
    with its interval as an error bar; the dashed line is tuned Adam
    (1)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    part = table[table["loss"] == loss]
    suites = _suites(part)
    solvers = sorted(part["solver"].unique())
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / max(len(solvers), 1)
    for k, solver in enumerate(solvers):
        rows = part[part["solver"] == solver].set_index("suite")
        x = [i - 0.4 + (k + 0.5) * width
             for i, s in enumerate(suites) if s in rows.index]
        sel = rows.loc[[s for s in suites if s in rows.index]]
        ax.errorbar(x, sel["iqm"], yerr=[sel["iqm"] - sel["low"],
                                         sel["high"] - sel["iqm"]],
                    fmt="o", capsize=3, label=solver)
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_xticks(range(len(suites)), [s.replace("_", "\n")
                                       for s in suites])
    ax.set_ylabel(f"speedup over tuned Adam ({loss} loss)")
    ax.set_title("Held-out suites: interquartile mean, 95% bootstrap "
                 "interval", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--from", dest="table", type=Path, nargs="+",
                        help="result tables to aggregate (concatenated)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    table = args.table
    if table is None:
        config = CONFIG
        if args.quick:
            config = args.out / "quick.yml"
            config.write_text(QUICK)
        table = run(config, args.out / "results.parquet" if args.quick
                    else ROOT / "outputs" / "l2o_generalization.parquet")
    result, labels, skipped = scores(table)
    budget = budgets(table, labels)
    result.to_csv(args.out / "scores.csv", index=False)
    budget.to_csv(args.out / "budgets.csv", index=False)
    text = markdown(result, budget, skipped)
    (args.out / "table.md").write_text(text)
    figure(result, args.out / "score_per_suite.png")
    print(text)
    return result, budget


if __name__ == "__main__":
    main()
