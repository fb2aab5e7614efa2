"""Result pages: config.yml's plots and views are valid and render."""

import os
import shutil
import subprocess
import sys
import warnings

import yaml
from benchopt.plotting import _check_view

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

VIEWS = ["Meta-test loss against time",
         "Meta-test loss against meta-iteration",
         "Learned step size", "Diverged fraction"]


def test_config_views_are_valid(bench):
    config = bench.get_plot_config()
    kinds = [plot._get_name() for plot in bench.get_plots()]
    assert set(config["plots"]) <= set(kinds)
    assert set(VIEWS) <= set(config["plot_configs"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # benchopt warns on a bad view
        for name, view in config["plot_configs"].items():
            _check_view(name, view, bench.get_plots())
    columns = {view.get("objective_curve_objective_column")
               for view in config["plot_configs"].values()}
    assert {"objective_value", "objective_step_size",
            "objective_diverged_fraction"} <= columns


def test_benchopt_plot_renders_the_views(tmp_path):
    # benchopt plot writes the page under the benchmark's outputs/: a copy
    copy = tmp_path / "benchmark"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", "outputs", "__cache__", "__pycache__", "tests", "docs"))
    (tmp_path / "run.yml").write_text(yaml.safe_dump({
        "dataset": ["quadratic[spectrum=linspace,dim=5,horizon=20]"],
        "solver": ["log-unrolled[gradient=stable]", "dog"],
        "max-runs": 5,
    }))
    out = copy / "outputs" / "run.parquet"
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true")
    run = [sys.executable, "-m", "benchopt"]
    proc = subprocess.run(
        run + ["run", str(copy), "--config", str(tmp_path / "run.yml"),
               "--no-cache", "--no-plot", "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    proc = subprocess.run(
        run + ["plot", str(copy), "-f", str(out), "--no-display"],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "Failed" not in proc.stdout + proc.stderr
    (page,) = out.parent.glob("*_run.html")
    html = page.read_text()
    for view in VIEWS:
        assert view in html
