"""``benchmarks/hardware.py`` and ``benchmarks/gpu.py``: the peers compute
the benchmark's meta-gradient, the bound counts the issue's flops, and the
GPU command refuses clearly without CUDA. Checks, not timings."""

import subprocess
import sys

import pytest
import torch

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import hardware  # noqa: E402


@pytest.mark.parametrize("peer", sorted(hardware.PEERS))
def test_peer_meta_gradient_is_the_benchmarks(peer):
    """``higher`` / ``torchopt`` written the usual way: the same
    truncated meta-gradient as the batched tbptt estimator (float64)."""
    pytest.importorskip(peer)
    from benchmark_utils.optimizers import NeuralOptimizer
    from benchmark_utils.tasks import make_generator
    tasks = hardware.make_tasks(2, 3, torch.float64, "cpu", hidden=(8,))
    problem = hardware._problem(tasks, NeuralOptimizer(), 3)
    theta = problem.optimizer.init_theta(make_generator(1), torch.float64)
    ours = hardware.ours_meta_gradient(problem, theta, 3)
    theirs = hardware.PEERS[peer](problem, theta, 3)
    assert float(ours.abs().max()) > 0
    assert torch.allclose(theirs, ours, rtol=1e-10, atol=1e-14)


def test_bound_counts_two_flops_per_matrix_weight():
    """The neural optimizer: 2 (F H + 2 H + 2 F) flops per coordinate
    for F inputs and H = 32 hidden units (2 (31*32 + 32*2 + 31*2), about
    2,200, at the paper's 31 features)."""
    from benchmark_utils.optimizers import NeuralOptimizer
    from benchmark_utils.tasks import make_generator
    tasks = hardware.make_tasks(2, 3, torch.float32, "cpu")
    opt = NeuralOptimizer().for_layout(tasks.layout)
    theta = opt.init_theta(make_generator(1), torch.float32)
    seconds, parts = hardware.bound_seconds(
        tasks, opt, theta, opt.init(tasks.w0), 1e9, 1e9)
    F, H = opt.unpack(theta)["W1"].shape
    assert H == 32
    assert parts["flops_per_coordinate"] == 2 * (F * H + 2 * H + 2 * F)
    assert seconds == max(parts["flops"], parts["bytes"]) / 1e9


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_gpu_command_refuses_without_cuda():
    out = subprocess.run([sys.executable, "benchmarks/gpu.py"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "no CUDA device" in out.stderr and not out.stdout
