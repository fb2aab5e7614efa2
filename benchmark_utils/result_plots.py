"""What the result page's custom plots (``plots/``) draw, from a result
table (one row per evaluation, benchopt's columns).

Readable at first sight:

- the metric is the one the family's phenomenon shows in (``metric``),
  chosen by what the family reports: a family with a ground truth (an
  ``excess_risk`` column: least squares), the meta-test excess risk
  ``||w_T - w*||^2`` (TbT against TbV, and ``w = 0`` at 1); a family with
  an exact optimal step size (an ``eta_star`` column: quadratics), the log
  meta-objective ``(1/T) log f(w_T)`` on the meta-test task (``f(w_T)``
  spans tens of decades between the solvers; its log is finite where ``f``
  overflows); the others, the meta-test loss ``value`` (mlp: test
  cross-entropy);
- a solver's curve is the median over repetitions at each evaluation (as
  benchopt's own curves); a solver evaluated once (a reference, a tuned
  baseline) is a horizontal line over the other curves' range;
- the y-axis is set by where the runs end, not by their worst trial point:
  ``ceiling`` is above the largest finite final value by ``HEADROOM``
  times the spread of the final values (on a linear axis) or by a factor
  ``LOG_HEADROOM`` (log axis), and every point above it (a diverged
  meta-step's trial step size, an overflowed loss, ``inf``) is drawn at
  the ceiling, so it stays visible at the top edge without stretching the
  axis; the title says so. A run that ends diverged (its final meta-test
  loss is not finite) does not set the ceiling either; its bar is drawn
  at the top, marked. The result table keeps every value; NaN is not
  drawn;
- labels keep, of a solver's parameters, only those that differ between
  solvers of the same name in the table (``log-unrolled[gradient=stable]``).
"""

import math

import pandas as pd

HEADROOM = 0.5
LOG_HEADROOM = 3.0
GROUP_COLORS = {"train": "#d62728", "validation": "#1f77b4",
                "reference": "#7f7f7f"}
# (a column the family reports, the metric drawn, its label), first match
FAMILY_METRICS = [
    ("objective_excess_risk", "objective_excess_risk",
     "meta-test excess risk ||w_T - w*||²"),
    ("objective_eta_star", "objective_log_objective",
     "meta-test (1/T) log f(w_T)"),
    ("objective_test_accuracy", "objective_value", "meta-test cross-entropy"),
]
DEFAULT_METRIC = ("objective_value", "meta-test loss")


def base_name(name):
    return name.split("[", 1)[0]


def short_labels(df, kind="solver"):
    """{name: base[varying params]} for the ``kind`` ("solver" or
    "dataset") names of ``df``."""
    prefix = f"p_{kind}_"
    columns = [c for c in df.columns if c.startswith(prefix)]
    first = df.groupby(f"{kind}_name", sort=False)[columns].first()
    bases = pd.Series([base_name(n) for n in first.index], index=first.index)
    # per base name, the parameters that take more than one value
    varying = first.apply(lambda col: col.astype(str)).groupby(
        bases.values).nunique() > 1
    labels = {}
    for name, row in first.iterrows():
        parts = [f"{c[len(prefix):]}={row[c]}" for c in columns
                 if varying.at[bases[name], c] and pd.notna(row[c])]
        labels[name] = bases[name] + (f"[{','.join(parts)}]" if parts
                                      else "")
    if len(set(labels.values())) < len(labels):   # ambiguous: full names
        return {name: name for name in labels}
    return labels


def dataset_rows(df, dataset, objective):
    return df[(df["dataset_name"] == dataset)
              & (df["objective_name"] == objective)]


def metric(rows):
    """(column, label) of the metric drawn for these rows (one dataset):
    the first of :data:`FAMILY_METRICS` whose telling column the family
    reports (module docstring)."""
    def reported(column):
        return column in rows and rows[column].notna().any()

    for telling, column, label in FAMILY_METRICS:
        if reported(telling) and reported(column):
            return column, label
    return DEFAULT_METRIC


def dataset_title(df, dataset):
    label = short_labels(df, "dataset")[dataset]
    rows = df[df["dataset_name"] == dataset]
    if "horizon=" not in label and "p_dataset_horizon" in rows:
        label += f" (T = {rows['p_dataset_horizon'].iloc[0]})"
    return label


def final_values(rows, column):
    """{solver: [final value of each repetition]}: the value at each
    repetition's last evaluation."""
    last = rows.loc[rows.groupby(["solver_name", "idx_rep"])["stop_val"]
                    .idxmax()]
    return {solver: group[column].tolist()
            for solver, group in last.groupby("solver_name")}


def median(values):
    values = [v for v in values if not math.isnan(v)]
    return float(pd.Series(values).median()) if values else math.nan


def ceiling(finals, log=False, extra=(), bars=False):
    """Top of the y-axis from the finite values among the medians of
    ``finals`` and ``extra``: ``max + HEADROOM (max - min)`` (the spread;
    ``HEADROOM |max|``, or 1, if there is none), at least
    ``HEADROOM (max - min)`` for ``bars`` (they start at 0, so a diverged
    one points up), or, on a log axis, ``LOG_HEADROOM max``; inf if no
    value is finite."""
    values = [median(v) for v in finals.values()] + list(extra)
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.inf
    high, low = max(finite), min(finite)
    if log:
        return LOG_HEADROOM * high
    spread = high - low or abs(high) or 1.0
    top = high + HEADROOM * spread
    return max(top, HEADROOM * spread) if bars else top


def clip(values, top):
    """Values for the plot: NaN -> None (not drawn), above ``top`` (inf
    included) -> ``top``."""
    out = []
    for v in values:
        v = float(v)
        if math.isnan(v):
            out.append(None)
        else:
            out.append(min(v, top) if math.isfinite(top) or math.isfinite(v)
                       else None)
    return out


def curves(rows, column, x_axis="Iteration"):
    """{solver: (x, y)}: the median over repetitions at each evaluation
    (``stop_val``), against the meta-iteration or the median time."""
    out = {}
    for solver, group in rows.groupby("solver_name"):
        table = group.pivot_table(index="stop_val", columns="idx_rep",
                                  values=column, aggfunc="last",
                                  dropna=False).ffill()
        y = table.median(axis=1)
        if x_axis == "Time":
            x = group.groupby("stop_val")["time"].median().loc[y.index]
        else:
            x = pd.Series(y.index, index=y.index)
        keep = y.notna()
        if keep.any():
            out[solver] = (x[keep].tolist(), y[keep].tolist())
    return out


def scatter_traces(plot, rows, column, x_axis="Iteration", log=False,
                   keep=None, extra=(), loss=True):
    """(traces, top, clipped): benchopt scatter traces of ``column`` for
    every solver with a value (in ``keep``, if given), single evaluations
    as horizontal lines, clipped at the ceiling (``log``: of a log axis,
    ``extra``: values it must show; ``loss``: the runs that end diverged
    do not set it); ``clipped`` is True if a point was."""
    labels = short_labels(rows)
    lines = {s: c for s, c in curves(rows, column, x_axis).items()
             if keep is None or s in keep}
    finals = {s: v for s, v in (readable_finals if loss else final_values)(
        rows, column).items() if s in lines}
    top = ceiling(finals, log, extra)
    xs = [x for x, _ in lines.values() if len(x) > 1]
    x_end = max((max(x) for x in xs), default=1)
    traces, clipped = [], False
    for solver, (x, y) in lines.items():
        if len(x) == 1:                      # one evaluation: a level
            x, y = [x[0], max(x_end, x[0])], [y[0], y[0]]
        clipped |= any(v > top for v in y)
        traces.append(dict(x=list(map(float, x)), y=clip(y, top),
                           label=labels[solver], **plot.get_style(solver)))
    return traces, top, clipped


def diverged(rows):
    """The solvers whose run ends diverged: the median final meta-test
    loss ``value`` is not finite (a meta-test task's loss overflowed)."""
    return {s for s, v in final_values(rows, "objective_value").items()
            if not math.isfinite(median(v)) and not math.isnan(median(v))}


def readable_finals(rows, column):
    """``final_values`` of the runs that do not end diverged: what sets
    the ceiling."""
    out = diverged(rows)
    return {s: v for s, v in final_values(rows, column).items()
            if s not in out}


def split_group(rows, solver):
    """"train", "validation" (the split the solver's meta-objective, or
    its tuning, is computed on: the objective's ``validation_split``
    metric, 0 or 1) or "reference" (a rule chosen without one)."""
    column = "objective_validation_split"
    split = (rows.loc[rows["solver_name"] == solver, column].dropna()
             if column in rows else pd.Series(dtype=float))
    if not len(split):
        return "reference"
    return "validation" if split.iloc[0] > 0.5 else "train"


def clip_note(top, clipped, what="points"):
    if not clipped:
        return ""
    return f"\n{what} above {top:.3g} drawn at the top edge"


def suite_scores(rows, metric="speedup_test"):
    """The aggregate score of ``rows`` (one dataset) per solver and suite
    (:func:`benchmark_utils.aggregation.score_table`: interquartile mean
    with a 95% stratified bootstrap interval), the in-distribution suite
    first, then the others in the order the runs saved them; None where
    the runs saved no per-task ``metric`` (no ``score=True``)."""
    from benchmark_utils.aggregation import read_scores, score_table

    try:
        scores = read_scores(rows)
    except ValueError:
        return None
    if metric not in scores or scores[metric].isna().all():
        return None
    order = list(dict.fromkeys(["in_distribution", *scores["suite"]]))
    table = score_table(scores, metric=metric)
    table["rank"] = table["suite"].map(order.index)
    return table.sort_values(["solver_name", "rank"]).drop(columns="rank")


def suite_order(table):
    """The suites of a :func:`suite_scores` table, in its order."""
    return list(dict.fromkeys(table["suite"]))
