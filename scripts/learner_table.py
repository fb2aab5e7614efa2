"""Does every meta-learner learn? Its untrained start, its best point and
what it hands back, over repetitions, from a benchopt result file.

    python scripts/learner_table.py outputs/<file>.parquet [--reference adam]

benchopt's first evaluation of a meta-learning solver is its untrained
start (0 meta-steps), its last is the result the solver hands back; "best"
is the lowest meta-test loss along the run (what an oracle that peeked at
the meta-test tasks would have kept: shown to judge the selection, never
used by it). For each dataset and meta-learning solver (a solver whose
final ``inner_gradient_evaluations`` is positive and that benchopt
evaluated more than once), one row: the mean over
repetitions of each, how many repetitions end strictly below their start
and how many end above it, the meta-training budget spent (inner-gradient
evaluations summed over tasks, selection included) and the handed-back
loss over the reference's final one (``--reference``, tuned Adam by
default; a ratio of at most 1.05 is "within 5%").
"""

import argparse
import sys

import pandas as pd
from benchopt.results import read_results


def learner_rows(df, reference="adam"):
    """One dict per (dataset, meta-learning solver); see the module doc."""
    df = df.sort_values("stop_val")
    keys = ["dataset_name", "solver_name", "idx_rep"]
    runs = df.groupby(keys).agg(
        untrained=("objective_value", "first"),
        best=("objective_value", "min"),
        handed_back=("objective_value", "last"),
        budget=("objective_inner_gradient_evaluations", "last"),
        evaluations=("objective_value", "size"),
    ).reset_index()
    refs = runs[runs.solver_name.str.split("[").str[0] == reference]
    ref_final = refs.groupby(["dataset_name", "idx_rep"]).handed_back.min()
    rows = []
    for (dataset, solver), group in runs.groupby(["dataset_name",
                                                  "solver_name"]):
        # a meta-learner: it paid for theta, and benchopt saw it learn
        if not ((group.budget > 0) & (group.evaluations > 1)).all():
            continue
        ratio = [r.handed_back / ref_final.get((dataset, r.idx_rep),
                                               float("nan"))
                 for r in group.itertuples()]
        rows.append(dict(
            dataset=dataset.split("[")[0], solver=solver,
            reps=len(group),
            untrained=group.untrained.mean(), best=group.best.mean(),
            handed_back=group.handed_back.mean(),
            below_start=int((group.handed_back < group.untrained).sum()),
            above_start=int((group.handed_back > group.untrained).sum()),
            budget=int(group.budget.max()),
            over_reference=pd.Series(ratio).mean(),
            worst_over_reference=pd.Series(ratio).max(),
        ))
    return rows


def markdown(rows, shorten=None):
    """The rows as one markdown table."""
    shorten = shorten or (lambda name: name)
    lines = ["| dataset | solver | untrained | best along the run | handed "
             "back | below / above start | budget | over tuned Adam (worst) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {shorten(r['solver'])} | "
            f"{r['untrained']:.3f} | {r['best']:.3f} | "
            f"{r['handed_back']:.3f} | {r['below_start']} / "
            f"{r['above_start']} of {r['reps']} | {r['budget']} | "
            f"{r['over_reference']:.3f} ({r['worst_over_reference']:.3f}) |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", help="parquet files")
    parser.add_argument("--reference", default="adam")
    args = parser.parse_args(argv)
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from studies.labels import short_label
    df = pd.concat([read_results(path) for path in args.results])
    print(markdown(learner_rows(df, args.reference), short_label))


if __name__ == "__main__":
    main()
