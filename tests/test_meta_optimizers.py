"""Meta-optimizers and the meta-training loop's failure handling."""

import math

import pytest
import torch

from benchmark_utils.meta_optimizers import (
    BracketingBrent, ProjectedGD, make_meta_optimizer,
)
from benchmark_utils.meta_objectives import MetaGradient
from benchmark_utils.meta_train import STALL_PATIENCE, MetaTrainer
from benchmark_utils.optimizers import GradientDescent
from conftest import float64, log_eta


def minimise(optimizer, grad_fn, eta0, steps):
    """Run ``optimizer`` on gradient descent's ``theta = log eta`` with the
    derivative ``grad_fn(eta)`` in eta (``dF/dtheta = eta dF/deta``)."""
    theta = log_eta(eta0)
    for _ in range(steps):
        eta = math.exp(float(theta))
        g = grad_fn(eta)
        theta = optimizer.step(theta, None,
                               None if g is None else float64(g * eta))
    return math.exp(float(theta))


def test_brent_finds_the_minimiser_of_a_quasi_convex_function():
    # F(eta) = log(1 + (log eta - log 3)^2): quasi-convex in eta, min at 3
    def grad(eta):
        u = math.log(eta / 3)
        return 2 * u / (1 + u * u) / eta

    for eta0 in (1e-6, 0.1, 3.5, 1e4):
        assert abs(minimise(BracketingBrent(1.0), grad, eta0, 60) - 3) < 1e-9


def test_brent_handles_a_step_like_derivative():
    """Long horizons make F' nearly a step at eta*: bisection steps in."""
    def grad(eta):
        return -1.0 if eta < 0.7 else 2.0

    assert abs(minimise(BracketingBrent(1.0), grad, 10.0, 80) - 0.7) < 1e-9


def test_brent_retreats_from_points_where_the_estimator_fails():
    """Like backprop past 2/L at long horizons: no gradient above eta = 5;
    the bracketing step from 0.1 overshoots it, then comes back."""
    def grad(eta):
        return None if eta > 5 else math.log(eta / 3) / eta

    assert abs(minimise(BracketingBrent(2.0), grad, 0.1, 80) - 3) < 1e-9


def test_projected_gd_is_the_papers_rule():
    """eta_{k+1} = max(eta_min, eta_k - lr / sqrt(k) F'(eta_k)), through
    theta = log eta (F'(eta) = dF/dtheta / eta)."""
    opt = ProjectedGD(0.5, GradientDescent())
    theta = opt.step(log_eta(1.0), None, float64(1.0 * 1.0))     # k = 1
    assert math.exp(float(theta)) == 0.5
    theta = opt.step(theta, None, float64(4.0 * 0.5))    # k = 2: projected
    assert math.exp(float(theta)) == pytest.approx(ProjectedGD.eta_min)
    assert float(opt.step(log_eta(0.7), None, None)) == float(log_eta(0.7))


def test_default_learning_rates():
    assert make_meta_optimizer("brent").lr == 1.0
    assert make_meta_optimizer("projected-gd").lr == 0.01
    assert make_meta_optimizer("projected-gd", 0.3).lr == 0.3


class _Scripted:
    """An estimator whose meta-gradients are given in advance."""

    def __init__(self, grads):
        self.grads = iter(grads)

    def init_state(self, problem, theta):
        return None

    def estimate(self, problem, theta, state):
        return MetaGradient(0.0, float64(next(self.grads))), state


def test_trainer_counts_and_skips_non_finite_meta_gradients():
    grads = [math.nan, 1.0, math.inf, 1.0]
    trainer = MetaTrainer(None, _Scripted(grads),
                          ProjectedGD(0.1, GradientDescent()), log_eta(1.0))
    for _ in grads:
        trainer.step()
    assert trainer.failures == 2
    assert math.isfinite(float(trainer.theta))
    assert float(trainer.theta) < 0.0          # eta < 1


def test_trainer_rejects_a_non_finite_proposal():
    trainer = MetaTrainer(None, _Scripted([-1e308] * 2),
                          ProjectedGD(1e10, GradientDescent()), log_eta(1.0))
    trainer.step()                             # eta would be +inf
    assert trainer.failures == 1 and float(trainer.theta) == 0.0


def test_trainer_stalls_when_theta_stops_moving():
    trainer = MetaTrainer(None, _Scripted([math.nan] * 50),
                          ProjectedGD(1.0, GradientDescent()), float64(1.0))
    steps = 0
    while not trainer.stalled:
        trainer.step()
        steps += 1
    assert steps == STALL_PATIENCE
    assert torch.equal(trainer.theta, float64(1.0))
