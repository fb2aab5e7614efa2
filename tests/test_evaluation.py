"""Meta-test metrics: exact, finite in log space, never NaN."""

import math

import pytest
import torch

from benchmark_utils.evaluation import evaluate
from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tasks import make_generator, make_quadratic_tasks
from benchmark_utils import quadratic_theory as theory


@pytest.fixture(scope="module")
def tasks():
    return make_quadratic_tasks(3, 50, "linspace", 100.0, make_generator(0))


def test_log_objective_is_finite_where_the_loss_underflows(tasks):
    """T = 20000, eta = 1.9/L: f(w_T) ~ e^-770 is 0 in float64."""
    metrics = tasks.exact_gd_metrics(1.9, 20000)
    assert metrics["value"] == 0.0
    assert metrics["diverged_fraction"] == 0.0
    lam, c = tasks.eigen_coordinates()
    ref = theory.log_objective(lam, c, 1.9, 20000).mean()
    assert metrics["log_objective"] == pytest.approx(ref, rel=1e-12)
    assert metrics["log_objective"] * 20000 < -700


def test_log_objective_is_finite_where_the_loss_overflows(tasks):
    """T = 20000, eta = 2.1/L: f(w_T) ~ e^+3800 is inf: diverged."""
    metrics = tasks.exact_gd_metrics(2.1, 20000)
    assert metrics["value"] == math.inf
    assert metrics["train_loss"] == math.inf
    assert metrics["diverged_fraction"] == 1.0
    lam, c = tasks.eigen_coordinates()
    ref = theory.log_objective(lam, c, 2.1, 20000).mean()
    assert metrics["log_objective"] == pytest.approx(ref, rel=1e-12)
    assert ref == pytest.approx(2 * math.log(1.1), rel=2e-3)


def test_metrics_are_plain_floats_and_never_nan(tasks):
    """theta = log eta: from eta = 0 (-inf) to eta = inf, and NaN."""
    for theta in (-math.inf, -700.0, math.log(1e-3), 0.0, math.log(2.0),
                  math.log(5.0), 460.0, math.inf, math.nan):
        result = SolverResult(GradientDescent(),
                              torch.tensor(theta, dtype=torch.float64))
        metrics = evaluate(tasks, result, 1000)
        for key, value in metrics.items():
            assert type(value) is float, key
            if key != "step_size":
                assert not math.isnan(value), (theta, key)


def test_an_unchanged_result_is_not_evaluated_again(tasks, monkeypatch):
    """The objective's evaluation reuses the last metrics for the same
    optimizer object and an equal theta, and only then: a changed theta,
    another optimizer object, other tasks or another horizon run again,
    and the reused metrics are the ones a fresh evaluation gives."""
    from benchmark_utils import evaluation
    from benchmark_utils.optimizers import Adam
    runs = []
    real = evaluation.evaluate
    monkeypatch.setattr(evaluation, "evaluate",
                        lambda *a: runs.append(a) or real(*a))
    memo = evaluation.RepeatedEvaluation()
    adam = Adam(1e-2)
    theta = adam.init_theta(make_generator(0), torch.float64)
    first = memo(tasks, SolverResult(adam, theta), 30)
    again = memo(tasks, SolverResult(adam, theta.clone(), meta_steps=5), 30)
    assert again == first == real(tasks, SolverResult(adam, theta), 30)
    assert (memo.computed, memo.reused) == (1, 1)
    other_tasks = make_quadratic_tasks(3, 50, "linspace", 100.0,
                                       make_generator(0))
    for result, on, horizon in [
            (SolverResult(adam, theta + 1e-3), tasks, 30),
            (SolverResult(Adam(1e-2), theta), tasks, 30),
            (SolverResult(adam, theta), other_tasks, 30),
            (SolverResult(adam, theta), other_tasks, 31),
            (SolverResult(adam, theta.float()), other_tasks, 31)]:
        memo(on, result, horizon)
    assert (memo.computed, memo.reused) == (6, 1)
    nan = torch.full_like(theta, math.nan)
    memo(tasks, SolverResult(adam, nan), 30)
    memo(tasks, SolverResult(adam, nan), 30)       # NaN never equals
    assert memo.computed == len(runs) == 8
