"""``python benchmarks/run.py --quick`` prints every figure, well formed.

Checks the output's shape, not its numbers: timings on shared machines are
noise; the figures themselves are in the README.
"""

import json
import math
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

NAMES = {
    "stable_grad_over_forward", "backprop_grad_over_forward",
    "stable_memory_ratio_T10000_T1000", "backprop_memory_ratio_T10000_T1000",
    "meta_evals_to_1e-3_eta0_0.1", "meta_evals_to_1e-3_eta0_10_over_L",
    "neural_unroll_speedup", "default_run_seconds", "evaluation_share",
    "module_unroll_over_written_out", "module_meta_grad_over_written_out",
    "suites_report_over_evaluation_gd",
    "suites_report_over_evaluation_neural", "yardstick_seconds",
    "meta_grad_compiled_over_eager", "meta_grad_compile_seconds",
    "meta_grad_over_higher", "meta_grad_over_torchopt",
    *(f"evaluation_kept_over_default_{name}"
      for name in ("neural", "lstm", "adafac")),
    *(f"{figure}_{name}" for name in ("neural", "lstm", "adafac")
      for figure in ("update_over_adam", "update_compiled_over_eager",
                     "update_compile_seconds", "train_step_over_bound",
                     "train_step_over_adam")),
}
COMPARISONS = NAMES - {"meta_evals_to_1e-3_eta0_0.1",
                       "meta_evals_to_1e-3_eta0_10_over_L"}
# a peer library that fails with this torch gives its error instead
MAY_FAIL = {"meta_grad_over_higher", "meta_grad_over_torchopt"}


def test_quick_benchmark_prints_one_json_object_per_figure():
    out = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick"], cwd=ROOT,
        capture_output=True, text=True, check=True, timeout=900,
    ).stdout
    figures = [json.loads(line) for line in out.splitlines() if line]
    assert {f["name"] for f in figures} == NAMES
    assert len(figures) == len(NAMES)
    for fig in figures:
        assert {"name", "value", "unit", "target"} <= set(fig)
        if fig["value"] is None and fig["name"] in MAY_FAIL:
            assert isinstance(fig["error"], str) and fig["error"]
            continue
        assert isinstance(fig["value"], (int, float))
        assert math.isfinite(fig["value"]) and fig["value"] >= 0
        assert isinstance(fig["target"], str) and fig["target"]
        if fig["name"] in COMPARISONS:
            assert isinstance(fig["anchor"], str) and fig["anchor"]
    speed = {f["name"]: f for f in figures}["neural_unroll_speedup"]
    assert speed["meta_gradient_rel_diff_float64"] < 1e-5
    module = {f["name"]: f for f in figures}[
        "module_meta_grad_over_written_out"]
    assert module["meta_gradient_rel_diff_float32"] < 1e-4
