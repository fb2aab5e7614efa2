"""Learnable hand-designed optimizers: the rules are the textbook ones, the
parametrisation keeps every theta valid, and meta-training through the
shared base improves on the start."""

import math

import pytest
import torch

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.optimizers import Adam, GradientDescent, SGDMomentum
from benchmark_utils.optimizers.base import safe_sqrt
from benchmark_utils.tasks import (
    make_generator, make_quadratic_tasks, quadratic_tasks,
)
from benchmark_utils.unroll import unroll
from conftest import make_dataset, make_objective, run_solver


@pytest.fixture(scope="module")
def quad():
    return make_quadratic_tasks(3, 6, "wishart", 1.0, make_generator(0))


def torch_optim_run(quad, make, steps):
    """Each task alone with a torch.optim optimizer, float64."""
    out = []
    for j in range(quad.n_tasks):
        w = quad.w0[j].clone().requires_grad_(True)
        opt = make([w])
        P = quad.train.P[j]
        for _ in range(steps):
            w.grad = P.T @ (P @ w.detach())
            opt.step()
        out.append(w.detach())
    return torch.stack(out)


def test_sgd_momentum_is_torch_sgd(quad):
    opt = SGDMomentum()
    theta = opt.theta_from(step_size=0.003, momentum=0.8)
    got = unroll(quad, opt, theta, 20)
    ref = torch_optim_run(quad, lambda p: torch.optim.SGD(
        p, lr=0.003, momentum=0.8), 20)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)


def test_adam_is_torch_adam(quad):
    opt = Adam()
    theta = opt.theta_from(step_size=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    got = unroll(quad, opt, theta, 20)
    ref = torch_optim_run(quad, lambda p: torch.optim.Adam(
        p, lr=0.05, betas=(0.8, 0.99), eps=1e-6), 20)
    torch.testing.assert_close(got, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("opt", [GradientDescent(), SGDMomentum(), Adam()])
def test_parametrisation_round_trips_and_every_theta_is_valid(opt):
    theta = opt.init_theta()
    values = opt.hyperparameters(theta)
    assert opt.hyperparameters(opt.theta_from(**values)) == pytest.approx(
        values, rel=1e-12)
    wild = torch.full_like(theta, 30.0) * torch.tensor(
        [(-1.0) ** k for k in range(theta.numel())]).reshape(theta.shape)
    for name, value in opt.hyperparameters(wild).items():
        assert math.isfinite(value), name
        if name in ("momentum", "beta1", "beta2"):
            assert 0.0 <= value <= 1.0


def _per_step_update_run(tasks, opt, theta, steps):
    """The loop written with ``update`` at every step (no prepare)."""
    w, state = tasks.w0, opt.init(tasks.w0)
    for k in range(steps):
        w, state = opt.update(w, tasks.inner_grad(w, k), state, theta)
    return w


@pytest.mark.parametrize("opt", [GradientDescent(0.05), SGDMomentum(),
                                 Adam(0.01)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_prepared_update_is_the_update(opt, dtype):
    # run_steps prepares theta's hyper-parameters once per run: one step
    # is bit for bit the update's, the unrolled run and its meta-gradient
    # agree with the per-step loop to rounding (the gradient's sum over
    # steps is taken in another order)
    tasks = make_quadratic_tasks(3, 6, "wishart", 1.0, make_generator(0),
                                 dtype)
    theta = opt.init_theta()
    w, g = tasks.w0 + 0.3, tasks.inner_grad(tasks.w0 + 0.3, 0)
    state = opt.init(w)
    one, _ = opt.update(w, g, state, theta)
    two, _ = opt.apply(w, g, state, opt.prepare(theta, w))
    assert torch.equal(one, two)

    def run(loop):
        t = theta.clone().requires_grad_(True)
        w_T = loop(t)
        (grad,) = torch.autograd.grad(w_T.square().sum(), t)
        return w_T.detach(), grad

    ours = run(lambda t: unroll(tasks, opt, t, 30))
    plain = run(lambda t: _per_step_update_run(tasks, opt, t, 30))
    # float32: the beta2 component, a small difference of large terms, to
    # 4e-5 (measured)
    tol = 1e-12 if dtype == torch.float64 else 1e-4
    for a, b in zip(ours, plain):
        assert torch.allclose(a.double(), b.double(), rtol=tol, atol=0)


def test_safe_sqrt_has_a_finite_derivative_at_zero():
    x = torch.tensor([0.0, 4.0], dtype=torch.float64, requires_grad=True)
    y = safe_sqrt(x)
    (g,) = torch.autograd.grad(y.sum(), x)
    assert torch.equal(y.detach(), x.detach().sqrt())
    assert torch.equal(g, torch.tensor([0.0, 0.25], dtype=torch.float64))


def test_adam_meta_gradient_is_finite_with_zero_gradients():
    """A coordinate whose gradient is always exactly 0 (a dead unit; here
    an eigenvalue 0) keeps v = 0: backprop through Adam's square root must
    stay finite (it is NaN with a plain ``sqrt``)."""
    eigvals = torch.tensor([[0.0, 0.5, 1.0]], dtype=torch.float64)
    tasks = quadratic_tasks(eigvals, torch.eye(3, dtype=torch.float64)[None],
                            torch.ones(1, 3, dtype=torch.float64))
    problem = MetaProblem(tasks, Adam(), MetaObjective("log"), 10)
    mg, _ = get_estimator("backprop").estimate(problem, Adam().init_theta(),
                                               None)
    assert math.isfinite(mg.loss)
    assert bool(torch.isfinite(mg.grad).all())
    assert float(mg.grad.abs().max()) > 0


@pytest.mark.parametrize("solver", ["learnable-sgdm", "learnable-adam"])
def test_meta_training_improves_on_the_start(bench, solver):
    """On quadratics (no samples: train-by-train, the default recipe
    otherwise)."""
    obj = make_objective(bench, make_dataset(
        bench, "quadratic", spectrum="linspace", dim=10, horizon=50,
        n_train_tasks=2, n_test_tasks=2))
    start = obj.evaluate_result(**run_solver(bench, obj, solver, 0,
                                             split="train")[0].get_result())
    solver_, metrics = run_solver(bench, obj, solver, 40, split="train",
                                  budget=None)
    assert metrics["value"] < 0.2 * start["value"]
    assert metrics["step_size"] > start["step_size"]
    assert metrics["meta_grad_failures"] == 0.0
    assert metrics["inner_gradient_evaluations"] > 0
    assert solver_.trainer.meta_steps == 40
