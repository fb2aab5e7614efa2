"""Summarise a result file: final meta-test loss and tuning cost per solver
and task family, and when meta-learning pays off against the references.

    python scripts/summarize_run.py outputs/<file>.parquet

For each dataset, a solver's final point gives its meta-test loss (``value``)
and its tuning cost ``C`` (``inner_gradient_evaluations``, summed over
meta-train tasks; 0 for the references). Solving one new task costs T inner
gradients with every method; a meta-learned rule adds ``C / N`` per task
when its cost is shared by N tasks. We say meta-learning pays off from
``N* = ceil(C / T)`` tasks on (its overhead is then at most one inner run
per task) if its loss is below the best reference's, and never otherwise.
"""

import math
from pathlib import Path
import sys

from benchopt.results import read_results

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from studies.labels import DATASET_SHOWN, short_label as short  # noqa: E402


def final_points(df):
    """The last point of every (dataset, solver) curve."""
    return (df.sort_values("stop_val")
              .groupby(["dataset_name", "solver_name"], as_index=False)
              .last())


def is_reference(row):
    return row.objective_inner_gradient_evaluations == 0


def break_even(learned_loss, cost, best_reference_loss, horizon):
    """Tasks from which meta-learning pays off (see the module doc), or
    None if it never does."""
    if not learned_loss < best_reference_loss:
        return None
    return max(1, math.ceil(cost / horizon))


def summary(df):
    """Markdown lines: one table per dataset."""
    lines = []
    for dataset, rows in final_points(df).groupby("dataset_name"):
        horizon = int(rows.p_dataset_horizon.iloc[0])
        refs = rows[rows.apply(is_reference, axis=1)]
        best = refs.objective_value.min() if len(refs) else math.inf
        lines += [f"\n{dataset}", "",
                  "| solver | meta-test loss | tuning cost | pays off from |",
                  "|---|---|---|---|"]
        for row in rows.sort_values("objective_value").itertuples():
            cost = row.objective_inner_gradient_evaluations
            if cost == 0:
                pays = "reference"
            else:
                n = break_even(row.objective_value, cost, best, horizon)
                pays = "never" if n is None else f"{n} tasks"
            lines.append(f"| {row.solver_name} | {row.objective_value:.4g} "
                         f"| {cost:.0f} | {pays} |")
    return "\n".join(lines)


def wide(df):
    """One markdown table: a row per solver, a column per dataset, cells
    ``loss (tuning cost)``; last row: the first meta-learner to pay off."""
    final = final_points(df)
    datasets = sorted(final.dataset_name.unique())
    solvers = sorted(final.solver_name.unique(), key=lambda s: (
        final[final.solver_name == s].objective_inner_gradient_evaluations
        .max() == 0, s))
    lines = ["| solver | " + " | ".join(short(d, DATASET_SHOWN)
                                        for d in datasets) + " |",
             "|---" * (len(datasets) + 1) + "|"]
    for solver in solvers:
        cells = []
        for dataset in datasets:
            row = final[(final.solver_name == solver)
                        & (final.dataset_name == dataset)]
            if row.empty:
                cells.append("skipped")
                continue
            row = row.iloc[0]
            cells.append(f"{row.objective_value:.3g} "
                         f"({row.objective_inner_gradient_evaluations:.0f})")
        lines.append(f"| {short(solver)} | " + " | ".join(cells) + " |")
    pays = []
    for dataset in datasets:
        rows = final[final.dataset_name == dataset]
        refs = rows[rows.objective_inner_gradient_evaluations == 0]
        best = refs.objective_value.min()
        horizon = int(rows.p_dataset_horizon.iloc[0])
        found = [(n, short(r.solver_name)) for r in rows.itertuples()
                 if r.objective_inner_gradient_evaluations > 0
                 and (n := break_even(r.objective_value,
                                      r.objective_inner_gradient_evaluations,
                                      best, horizon)) is not None]
        pays.append(f"{min(found)[0]} tasks ({min(found)[1]})" if found
                    else "never")
        del refs
    lines.append("| **meta-learning pays off from** | " + " | ".join(pays)
                 + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    results = read_results(sys.argv[1])
    print(wide(results) if "--wide" in sys.argv else summary(results))
