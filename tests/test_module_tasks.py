"""The torch.func family: any nn.Module as batched tasks, exact against the
written-out MLP, differentiable forward and backward through an unroll."""

import math

import pytest
import torch
from torch import nn

from benchmark_utils.image_data import load_digits
from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.tasks import make_generator, make_mlp_tasks
from benchmark_utils.tasks.mlp import _unflatten
from benchmark_utils.tasks.modules import (
    ModuleTasks, check_module, digits_cnn, make_module_tasks,
)
from conftest import estimate, gd_problem


def mlp_as_module_layout(w, sizes):
    """The MLP's flat rows (W in x out, b per layer) in nn.Linear's order
    (weight out x in, then bias)."""
    parts = []
    for W, b in _unflatten(w, sizes):
        parts += [W.transpose(1, 2).reshape(w.shape[0], -1), b]
    return torch.cat(parts, 1)


@pytest.fixture(scope="module")
def twins():
    """The same MLP tasks, written out and as an nn.Sequential."""
    X, y = load_digits()
    mlp = make_mlp_tasks(X, y, 3, 60, 50, (16, 8), 16, 0.0, 10,
                         make_generator(0), torch.float64)
    module = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 8),
                           nn.ReLU(), nn.Linear(8, 10)).double()
    generic = ModuleTasks(
        sizes=(), w0=mlp_as_module_layout(mlp.w0, mlp.sizes),
        train=mlp.train, test=mlp.test, schedule=mlp.schedule,
        seed=mlp.seed, module=module)
    return mlp, generic


@pytest.fixture(scope="module")
def conv():
    X, y = load_digits()
    return make_module_tasks(digits_cnn(2), X, y, 2, 30, 20, 8, 0.0, 3,
                             make_generator(1), torch.float64)


def test_torch_func_gradients_are_the_written_out_ones(twins):
    mlp, generic = twins
    for step in (0, 3):
        torch.testing.assert_close(
            generic.inner_grad(generic.w0, step),
            mlp_as_module_layout(mlp.inner_grad(mlp.w0, step), mlp.sizes),
            rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(generic.loss("test")(generic.w0),
                               mlp.loss("test")(mlp.w0), rtol=1e-13, atol=0)
    assert generic.metrics(generic.w0, 1) == pytest.approx(
        mlp.metrics(mlp.w0, 1), rel=1e-12)


def test_forward_over_reverse_is_autograds_hessian_vector_product(twins):
    _, generic = twins
    v = torch.randn(generic.w0.shape, generator=make_generator(2),
                    dtype=torch.float64)
    _, hvp = torch.func.jvp(lambda w: generic.inner_grad(w, 0),
                            (generic.w0,), (v,))
    w = generic.w0.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad((generic.inner_grad(w, 0) * v).sum(),
                                      w)
    torch.testing.assert_close(hvp, expected, rtol=1e-10, atol=1e-14)


def test_meta_gradients_go_through_a_conv_unroll(conv):
    problem = gd_problem(conv, 3, kind="naive")
    assert get_estimator("forward").unsupported(problem) is None
    backprop = estimate("backprop", problem, 0.05)
    forward = estimate("forward", problem, 0.05)
    assert torch.isfinite(backprop.grad) and float(backprop.grad) != 0.0
    torch.testing.assert_close(forward.grad, backprop.grad, rtol=1e-9,
                               atol=0)


def test_the_contract_layout_and_initialisation(conv):
    assert sum(math.prod(s) for s in conv.layout) == conv.w0.shape[1]
    assert conv.layout == tuple(tuple(p.shape)
                                for p in digits_cnn(2).parameters())
    assert conv.family == "module" and conv.dtype == torch.float64
    assert not torch.equal(conv.w0[0], conv.w0[1])      # one draw per task
    restarted = conv.restart(1)
    assert not torch.equal(restarted.w0, conv.w0)
    assert torch.equal(restarted.train.X, conv.train.X)
    held_out = conv.hold_out(0.5)
    assert held_out.loss("validation")(conv.w0).shape == (2,)


def test_unsupported_modules_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="buffers .*running_mean"):
        check_module(nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)))
    with pytest.raises(ValueError, match="deterministic .*eval"):
        check_module(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)))
    check_module(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).eval())
    with pytest.raises(ValueError, match="torch.nn.Module, got function"):
        check_module(digits_cnn)
    with pytest.raises(ValueError, match="no parameters"):
        check_module(nn.ReLU())
