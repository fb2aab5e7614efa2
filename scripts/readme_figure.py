"""Draw a result file's picture (docs/result_least_squares.png, a small PNG).

    python scripts/readme_figure.py outputs/<file>.parquet docs/result.png \
        least_squares

Meta-test loss against the meta-iteration on the first dataset whose name
starts with the given prefix: the meta-learning solvers' curves, and each
reference (no meta-training) as a horizontal line at its loss. The y-axis
is cut to the range of the references and final points (meta-learners'
trial step sizes can overflow on the way).
"""

from pathlib import Path
import re
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from benchopt.results import read_results  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from studies.labels import short_label as short  # noqa: E402


def render(parquet, png, dataset_prefix):
    df = read_results(parquet)
    dataset = sorted(d for d in df.dataset_name.unique()
                     if d.startswith(dataset_prefix))[0]
    df = df[df.dataset_name == dataset]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    finals = []
    for i, (solver, curve) in enumerate(df.groupby("solver_name")):
        curve = curve.sort_values("stop_val")
        value = curve.objective_value.iloc[-1]
        finals.append(value)
        if curve.objective_inner_gradient_evaluations.max() == 0:
            ax.axhline(value, ls="--", lw=1, color=plt.cm.tab20(i % 20),
                       label=f"{short(solver)} (reference)")
        else:
            ax.plot(curve.stop_val, curve.objective_value, marker=".",
                    color=plt.cm.tab20(i % 20), label=short(solver))
    finals = [v for v in finals if v < float("inf")]
    ax.set_ylim(0.95 * min(finals), 1.05 * max(finals))
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(left=0)
    ax.set_xlabel("meta-iteration (meta-gradients)")
    ax.set_ylabel("meta-test loss")
    ax.set_title(re.sub(r",n_", ",\nn_", dataset, count=1), fontsize=9)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(png, dpi=80)


if __name__ == "__main__":
    render(*sys.argv[1:4])
