from benchopt import BasePlot

from benchmark_utils.result_plots import (
    dataset_rows, dataset_title, short_labels, suite_order, suite_scores,
)


class Plot(BasePlot):
    """The speedup over tuned Adam per held-out suite (x, numbered: the
    page's axes are numeric; the axis title names them) and per solver
    (one line each): the interquartile mean over the suite's tasks and the
    repetitions, with its 95% stratified bootstrap interval as the band
    (``benchmark_utils.aggregation``). 1 = as fast as learning-rate-tuned
    Adam; above 1, faster. A dataset run without ``score=True`` draws
    nothing and says so in its title."""

    name = "score_per_suite"
    type = "scatter"
    options = {"dataset": ..., "objective": ..., "loss": ["test", "train"]}

    def plot(self, df, dataset, objective, loss):
        rows = dataset_rows(df, dataset, objective)
        table = suite_scores(rows, f"speedup_{loss}")
        if table is None:
            return []
        labels = short_labels(rows)
        position = {s: i for i, s in enumerate(suite_order(table))}
        traces = []
        for solver, group in table.groupby("solver_name", sort=False):
            traces.append(dict(
                x=[position[s] for s in group["suite"]],
                y=group["iqm"].tolist(),
                y_low=group["low"].tolist(), y_high=group["high"].tolist(),
                label=labels[solver], **self.get_style(labels[solver])))
        return traces

    def get_metadata(self, df, dataset, objective, loss):
        rows = dataset_rows(df, dataset, objective)
        title = (f"{dataset_title(df, dataset)}: speedup over tuned Adam "
                 f"on the {loss} loss\n(interquartile mean over tasks and "
                 "repetitions, 95% bootstrap band; above 1: faster)")
        table = suite_scores(rows, f"speedup_{loss}")
        xlabel = "meta-test suite"
        if table is None:
            title += "\nno score in this run (dataset parameter score=True)"
        else:   # a linear axis: the suites are numbered, named here
            xlabel += ": " + ", ".join(
                f"{i} {s}" for i, s in enumerate(suite_order(table)))
        return {"title": title, "xlabel": xlabel,
                "ylabel": f"speedup ({loss} loss)"}
