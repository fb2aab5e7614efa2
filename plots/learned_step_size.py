import math

from benchopt import BasePlot

from benchmark_utils.result_plots import (
    clip, clip_note, dataset_rows, dataset_title, final_values, median,
    scatter_traces,
)


class Plot(BasePlot):
    """The meta-learned (or tuned) step size against the meta-iteration,
    with eta* (the exact minimiser of the meta-objective, quadratics) as
    a black line. Drawn: the solvers that spend inner gradients to choose
    their step size (``inner_gradient_evaluations > 0``); the rules with
    none (fixed steps, adaptive references) are not."""

    name = "learned_step_size"
    type = "scatter"
    options = {"dataset": ..., "objective": ...}

    def _traces(self, rows):
        tuned = {s for s, v in final_values(
            rows, "objective_inner_gradient_evaluations").items()
            if median(v) > 0}
        eta_star = math.nan
        if "objective_eta_star" in rows:
            known = rows["objective_eta_star"].dropna()
            eta_star = float(known.iloc[0]) if len(known) else math.nan
        extra = [eta_star] if math.isfinite(eta_star) else []
        traces, top, clipped = scatter_traces(
            self, rows, "objective_step_size", log=True, keep=tuned,
            extra=extra, loss=False)
        if extra and traces:
            x = [min(t["x"][0] for t in traces),
                 max(t["x"][-1] for t in traces)]
            traces.append(dict(x=x, y=clip(extra * 2, top),
                               label="eta* (exact optimum)", color="black",
                               marker=0))
        return traces, top, clipped, eta_star

    def plot(self, df, dataset, objective):
        return self._traces(dataset_rows(df, dataset, objective))[0]

    def get_metadata(self, df, dataset, objective):
        rows = dataset_rows(df, dataset, objective)
        _, top, clipped, eta_star = self._traces(rows)
        what = (f"learned step size; black: eta* = {eta_star:.4g}"
                if math.isfinite(eta_star) else
                "learned step size (no closed-form eta* here)")
        return {
            "title": f"{dataset_title(df, dataset)}: {what}"
                     + clip_note(top, clipped, "trial step sizes"),
            "xlabel": "meta-iteration (solvers evaluated once: lines)",
            "ylabel": "step size eta",
        }
