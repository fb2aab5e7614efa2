"""`python -m studies.pes_cosine --quick`: it runs, writes its table, and
shows what it is for: online PES's estimate lines up with the exact
meta-gradient for learnable Adam's 4 hyper-parameters, and barely for the
neural optimizer's 1,153 weights, at the same number of pairs."""

import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def test_pes_cosine_quick(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "studies.pes_cosine", "--quick", "--out",
         str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    df = pd.read_csv(tmp_path / "pes_cosine.csv")
    for col in ("solver", "dims", "pairs", "cos_pes_exact", "norm_ratio",
                "cos_average_final", "cost_per_estimate"):
        assert col in df, col
    at4 = df[df.pairs == 4].set_index("solver").cos_pes_exact
    assert at4["learnable-adam"] > 0.5
    assert at4["neural-optimizer"] < 0.25
    # more pairs cost proportionally more
    cost = df[df.solver == "learnable-adam"].set_index("pairs")
    assert cost.cost_per_estimate[4] == 4 * cost.cost_per_estimate[1]
