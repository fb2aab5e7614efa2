"""`python -m studies.meta_training --quick`: it runs, and writes
the CSV tables and figures its docstring lists, with the columns the note
reads (the numbers are the study's, not checked here)."""

import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def test_meta_training_quick_writes_its_tables_and_figures(
        tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "studies.meta_training", "--quick",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    curves = pd.read_csv(tmp_path / "curves.csv")
    grads = pd.read_csv(tmp_path / "gradients.csv")
    horizon = pd.read_csv(tmp_path / "horizon.csv")
    assert set(curves.split) == {"train", "validation"}
    for col in ("meta_step", "meta_loss", "grad_norm", "train_objective",
                "metaval_objective", "metaval_final", "test_loss",
                "inner_gradient_evaluations"):
        assert col in curves, col
    evaluated = curves.dropna(subset=["test_loss"])
    assert list(evaluated.meta_step[evaluated.split == "train"]) == [0, 2, 4]
    assert curves.meta_loss.notna().sum() == 2 * 4     # every meta-step
    for col in ("cos", "norm_ratio", "cos_average_final", "spread_average",
                "spread_final", "snr_final", "cos_segment_0"):
        assert col in grads, col
    assert set(grads.run.astype(str)) == {"0", "1", "all"}
    assert set(horizon.theta) == {"untrained", "trained",
                                  "trained, step features unbounded"}
    assert horizon.step.max() == 30
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert len(summary) == 2                    # a row per split
    for col in ("untrained", "best", "handed_back", "meta_steps",
                "inner_gradient_evaluations"):
        assert col in summary, col
    assert (summary.best <= summary.untrained).all()
    assert (summary.best <= summary.handed_back).all()
    for name in ("curves.png", "gradients.png", "horizon.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
