"""Result pages: config.yml's views are valid, render, and say something
at first sight in a real browser (headless Chromium)."""

import math
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from benchopt.plotting import _check_view

from benchmark_utils import result_plots
from conftest import ROOT
from scripts import page_screenshots

VIEWS = ["Meta-test loss against meta-iteration",
         "Learned step size against eta*", "TbT/TbV gap",
         "Final meta-test loss", "Meta-test loss against time",
         "Speedup over tuned Adam per suite"]
CUSTOM = ["meta_test_curve", "learned_step_size", "tbt_tbv_gap",
          "final_meta_test_loss", "score_per_suite"]
# a small run with the three families, points that diverge (naive on the
# paper's quadratic at T = 1000 from eta0 = 0.1 > 2/L; the meta-optimizer's
# trial step sizes on least squares), TbT and TbV
SMALL_RUN = {
    "dataset": [
        "quadratic[spectrum=wishart,dim=20,horizon=1000,n_train_tasks=1]",
        "least_squares[dim=50,n_samples=25,horizon=40,n_train_tasks=6,"
        "n_test_tasks=6]",
        "mlp[n_samples=50,n_test=100,horizon=20,n_train_tasks=2,"
        "n_test_tasks=2,suites=wider,score=True]",
    ],
    "solver": ["log-unrolled[gradient=stable]", "naive-unrolled",
               "train-by-validation[meta_objective=log]",
               "grid-search[split=[train,validation]]",
               {"fixed-step": {"rule": "1/L"}}, "dog"],
    "max-runs": 8,
}
SCORE_VIEW = "Speedup over tuned Adam per suite"
# a loss this large (or not finite) is a diverged point
DIVERGED = 1e10


def test_config_views_are_valid(bench):
    config = bench.get_plot_config()
    kinds = [plot._get_name() for plot in bench.get_plots()]
    assert set(CUSTOM) <= set(kinds)
    assert set(config["plots"]) <= set(kinds)
    assert list(config["plot_configs"]) == VIEWS
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # benchopt warns on a bad view
        for name, view in config["plot_configs"].items():
            _check_view(name, view, bench.get_plots())
    assert {view["plot_kind"] for view in config["plot_configs"].values()
            } == set(CUSTOM)
    bench.check_plots()          # options match the plot() signatures


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """(parquet, page) of SMALL_RUN, run as a user would on a copy of the
    benchmark (benchopt writes the page under the benchmark's outputs/)."""
    tmp = tmp_path_factory.mktemp("pages")
    copy = tmp / "benchmark"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", "outputs", "__cache__", "__pycache__", "tests", "docs",
        ".venv"))
    (tmp / "run.yml").write_text(yaml.safe_dump(SMALL_RUN))
    out = copy / "outputs" / "run.parquet"
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true")
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(copy), "--config",
         str(tmp / "run.yml"), "--no-cache", "--no-display", "--output",
         str(out)], capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    (page,) = out.parent.glob("*_run.html")
    return out, page


@pytest.mark.slow
def test_benchopt_plot_renders_the_views(small_run):
    parquet, page = small_run
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true")
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "plot", str(page.parents[1]),
         "-f", str(parquet), "--no-display"],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Failed" not in proc.stdout + proc.stderr
    html = page.read_text()
    for view in VIEWS:
        assert view in html


def _off_the_chart(view, rows):
    """Values the view's y-axis must not reach: the metric at the
    evaluations whose loss diverged; for the step size, the trial step
    sizes more than 10 times the largest final one."""
    if view == "Learned step size against eta*":
        last = rows.loc[rows.groupby("solver_name")["stop_val"].idxmax()]
        final = last["objective_step_size"].max()
        steps = rows["objective_step_size"].dropna()
        return steps[steps > 10 * final].tolist()
    column = result_plots.metric(rows)[0]
    bad = ~np.isfinite(rows["objective_value"]) | (
        rows["objective_value"] > DIVERGED)
    return rows.loc[bad, column].dropna().tolist()


def _ink_share(png, rect, origin):
    """Share of the plot rectangle's pixels (inset by 3 px: not the axes'
    frame) darker than the light grey of the grid: drawn curves or
    bars."""
    from PIL import Image
    x, y, w, h = (round(v) for v in (rect[0] - origin[0] + 3,
                                     rect[1] - origin[1] + 3,
                                     rect[2] - 6, rect[3] - 6))
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))[y:y + h, x:x + w]
    return float((pixels.min(axis=2) < 200).mean())


@pytest.mark.slow
def test_views_draw_readable_curves_in_chromium(small_run, tmp_path):
    binary = page_screenshots.find_chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install "
                    "chromium); the result page is not checked in a browser")
    from benchopt.results import read_results
    parquet, page = small_run
    df = read_results(parquet)
    shots = page_screenshots.render_views(page, tmp_path, binary=binary)
    datasets = set(df["dataset_name"])
    assert {(s["view"], s["dataset"]) for s in shots} == {
        (v, d) for v in VIEWS for d in datasets}
    checked_divergence = 0
    for shot in shots:
        where = f"{shot['view']} on {shot['dataset']} ({shot['png']})"
        assert not shot["exceptions"], where
        if shot["view"] == SCORE_VIEW and not shot["dataset"].startswith(
                "mlp"):     # only the mlp dataset of the run has a score
            assert "no score in this run" in shot["title"], where
            continue
        assert "Not available" not in shot["annotations"], where
        drawn = [t for t in shot["traces"] if t["n_finite"] > 0]
        assert drawn, where
        assert _ink_share(shot["png"], shot["plot_rect"],
                          shot["figure_rect"]) > 0.003, where
        low, high = shot["yaxis"]["range"]
        if shot["yaxis"]["type"] == "log":
            low, high = 10 ** low, 10 ** high
        assert low < high, where
        rows = df[df["dataset_name"] == shot["dataset"]]
        if shot["view"] == SCORE_VIEW:
            # every suite of the run on the x-axis, a band per solver
            scores = result_plots.suite_scores(rows)
            assert set(scores["suite"]) == {"in_distribution", "wider"}
            assert len(drawn) >= scores["solver_name"].nunique()
            continue
        off = _off_the_chart(shot["view"], rows)
        if off:
            checked_divergence += 1
            assert high < min(off), where
        eta_star = rows.get("objective_eta_star", pd.Series()).dropna()
        if shot["view"].startswith("Learned") and len(eta_star):
            assert low < eta_star.iloc[0] < high, where
    # the run has diverged points, in most views
    assert checked_divergence >= sum(
        s["view"] != SCORE_VIEW for s in shots) // 2


def _table(curves):
    """A result table: {solver: [(stop_val, value, step_size), ...]} on
    one least-squares dataset, one repetition."""
    rows = []
    for solver, points in curves.items():
        for stop_val, value, step in points:
            rows.append(dict(
                solver_name=solver, dataset_name="least_squares[dim=2]",
                objective_name="meta-optimization", idx_rep=0,
                stop_val=stop_val, time=0.1 * (stop_val + 1),
                objective_value=value, objective_excess_risk=2 * value - 1,
                objective_step_size=step,
                objective_validation_split=(
                    math.nan if solver.startswith("dog") else
                    float("validation" in solver)), p_dataset_dim=2))
    return pd.DataFrame(rows)


class Style:
    @staticmethod
    def get_style(label):
        return {"color": (0, 0, 0, 1), "marker": 0}


def test_ceiling_is_set_by_where_the_runs_end():
    df = _table({
        "log-unrolled[gradient=stable]": [(0, 1.2, 0.1), (1, 1e80, 2.0),
                                          (2, 1.3, 0.3)],
        "grid-search[split=validation]": [(1, 0.9, 0.01)],
        "naive-unrolled": [(0, 1.2, 0.1), (1, math.inf, 2.0)],
    })
    traces, top, clipped = result_plots.scatter_traces(
        Style, df, "objective_excess_risk")
    # finals: 1.6 and 0.8 (excess risk); the diverged run does not count
    assert top == pytest.approx(1.6 + 0.5 * 0.8)
    assert clipped
    by_label = {t["label"]: t for t in traces}   # no parameter differs
    stable = by_label["log-unrolled"]["y"]
    assert stable == pytest.approx([1.4, top, 1.6])   # trial point at top
    assert by_label["naive-unrolled"]["y"] == pytest.approx([1.4, top])
    # evaluated once: a level over the other curves' range
    level = by_label["grid-search"]
    assert level["x"] == [1.0, 2.0] and level["y"] == pytest.approx([0.8] * 2)
    assert result_plots.diverged(df) == {"naive-unrolled"}


def test_clip_keeps_nan_out_and_inf_at_the_top():
    assert result_plots.clip([1.0, math.nan, math.inf, 5.0], 3.0) == [
        1.0, None, 3.0, 3.0]
    assert result_plots.clip([math.inf], math.inf) == [None]
    assert result_plots.ceiling({}) == math.inf
    assert result_plots.ceiling({"a": [2.0]}, log=True) == pytest.approx(6.0)


def test_labels_keep_the_parameters_that_differ():
    df = _table({
        "log-unrolled[eta0=0.1,gradient=stable]": [(0, 1.0, 0.1)],
        "log-unrolled[eta0=0.1,gradient=backprop]": [(0, 1.0, 0.1)],
        "dog[reps_rel=1e-06]": [(0, 1.0, math.nan)],
    })
    df["p_solver_eta0"] = 0.1
    df["p_solver_gradient"] = df["solver_name"].str.extract(
        r"gradient=(\w+)")[0]
    labels = result_plots.short_labels(df)
    assert labels == {
        "log-unrolled[eta0=0.1,gradient=stable]":
            "log-unrolled[gradient=stable]",
        "log-unrolled[eta0=0.1,gradient=backprop]":
            "log-unrolled[gradient=backprop]",
        "dog[reps_rel=1e-06]": "dog",
    }


def test_split_groups():
    df = _table({"log-unrolled[gradient=stable]": [(0, 1.0, 0.1)],
                 "train-by-validation[meta_objective=log]": [(0, 1.0, 0.1)],
                 "grid-search[split=validation]": [(0, 1.0, 0.1)],
                 "dog": [(0, 1.0, math.nan)]})
    assert [result_plots.split_group(df, s) for s in df.solver_name.unique()
            ] == ["train", "validation", "validation", "reference"]


def test_page_copy_loads_plotly_from_the_package(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<html><head><link href="https://fonts.x/y" '
                    'rel="stylesheet"></head><body><script src="https://'
                    'cdn.plot.ly/plotly-2.12.1.min.js"></script><script>'
                    'var a = 1;</script></body></html>')
    copy = page_screenshots.local_copy(page, tmp_path / "copy")
    html = copy.read_text()
    assert "https://" not in html
    assert '<script src="plotly.min.js"></script>' in html
    assert (tmp_path / "copy" / "plotly.min.js").stat().st_size > 1e6
    page.write_text("<html><body>no plot</body></html>")
    with pytest.raises(ValueError, match="plotly"):
        page_screenshots.local_copy(page, tmp_path / "other")
