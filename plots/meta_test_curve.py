from benchopt import BasePlot

from benchmark_utils.result_plots import (
    clip_note, dataset_rows, dataset_title, diverged, metric,
    scatter_traces, short_labels,
)


class Plot(BasePlot):
    """The family's meta-test metric against the meta-iteration or the
    time, with the y-axis set by where the runs end
    (``benchmark_utils.result_plots``)."""

    name = "meta_test_curve"
    type = "scatter"
    options = {
        "dataset": ...,
        "objective": ...,
        "X_axis": ["Iteration", "Time"],
    }

    def plot(self, df, dataset, objective, X_axis):
        rows = dataset_rows(df, dataset, objective)
        return scatter_traces(self, rows, metric(rows)[0], X_axis)[0]

    def get_metadata(self, df, dataset, objective, X_axis):
        rows = dataset_rows(df, dataset, objective)
        column, label = metric(rows)
        _, top, clipped = scatter_traces(self, rows, column, X_axis)
        labels = short_labels(rows)
        ended = sorted(labels[s] for s in diverged(rows))
        title = f"{dataset_title(df, dataset)}: {label}"
        title += clip_note(top, clipped, "diverged points")
        if ended:
            title += f"\nends diverged: {', '.join(ended)}"
        return {
            "title": title,
            "xlabel": ("meta-iteration (solvers evaluated once: lines)"
                       if X_axis == "Iteration" else "time (s)"),
            "ylabel": label,
        }
