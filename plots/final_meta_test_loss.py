from benchopt import BasePlot

from benchmark_utils.result_plots import (
    ceiling, clip, dataset_rows, dataset_title, diverged, final_values,
    median, metric, readable_finals, short_labels,
)


class Plot(BasePlot):
    """The family's final meta-test metric for every solver, best first;
    a run that ends diverged is a grey bar at the top edge, marked."""

    name = "final_meta_test_loss"
    type = "bar_chart"
    options = {"dataset": ..., "objective": ...}

    def plot(self, df, dataset, objective):
        rows = dataset_rows(df, dataset, objective)
        column, _ = metric(rows)
        top = ceiling(readable_finals(rows, column), bars=True)
        ended = diverged(rows)
        labels = short_labels(rows)
        finals = final_values(rows, column)
        order = sorted(finals, key=lambda s: (s in ended,
                                              median(finals[s])))
        return [dict(y=clip([top] if s in ended else finals[s], top),
                     label=labels[s], text="diverged" if s in ended else "",
                     color=self.get_style(s)["color"]) for s in order]

    def get_metadata(self, df, dataset, objective):
        rows = dataset_rows(df, dataset, objective)
        _, label = metric(rows)
        return {
            "title": f"{dataset_title(df, dataset)}: final {label}"
                     "\n(lower is better; marked: the run ends diverged)",
            "ylabel": f"final {label}",
        }
