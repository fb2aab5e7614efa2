"""Mini-batch least squares (``batch_size``) and ``eval_horizon``: the
two dataset parameters the reproduction's "beyond the paper" rows use."""

import pytest
import torch

from benchmark_utils.evaluation import evaluate
from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tasks import make_generator, make_least_squares_tasks
from benchmark_utils.unroll import unroll
from conftest import (
    gd_result, log_eta, make_dataset, make_objective, run_solver,
)


def minibatch_tasks(batch_size=4, n_samples=12, steps=10):
    return make_least_squares_tasks(3, 10, n_samples, 1.0, make_generator(0),
                                    batch_size=batch_size, steps=steps)


def test_minibatch_gradients_average_to_the_full_gradient():
    # one epoch visits every sample once: the mini-batch gradients at a
    # fixed w average to the full training gradient (unbiased SGD)
    tasks = minibatch_tasks()
    w = torch.randn(3, 10, generator=make_generator(1), dtype=torch.float64)
    grads = [tasks.inner_grad(w, k) for k in range(3)]   # 12 / 4 = 3
    torch.testing.assert_close(sum(grads) / 3, tasks.train.grad(w))
    assert not torch.allclose(grads[0], grads[1])
    losses = [tasks.inner_loss(w, k) for k in range(3)]
    torch.testing.assert_close(sum(losses) / 3, tasks.train(w))
    # a new epoch, a new order
    assert not torch.allclose(tasks.inner_grad(w, 3), grads[0])


def test_stable_refuses_a_minibatch_loop_and_evaluation_runs_it():
    tasks = minibatch_tasks()
    problem = MetaProblem(tasks, GradientDescent(), MetaObjective(), 10)
    assert "mini-batch" in get_estimator("stable").unsupported(problem)
    metrics = evaluate(tasks, gd_result(0.05), 10)
    w_T = unroll(tasks, GradientDescent(), log_eta(0.05), 10)
    assert metrics["excess_risk"] == pytest.approx(
        float((w_T - tasks.w_star).square().sum(-1).mean()))
    exact = tasks.exact_gd_metrics(0.05, 10)        # full-batch GD
    assert metrics["excess_risk"] != pytest.approx(exact["excess_risk"])


def test_minibatch_dataset_runs_grid_search_and_skips_stable(bench):
    dataset = make_dataset(bench, "least_squares", dim=10, n_samples=8,
                           n_train_tasks=3, n_test_tasks=3, horizon=10,
                           batch_size=2)
    obj = make_objective(bench, dataset)
    _, metrics = run_solver(bench, obj, "grid-search", split="validation")
    assert 0 < metrics["excess_risk"] < float("inf")
    from conftest import make_solver
    solver = make_solver(bench, "log-unrolled", gradient="stable")
    skip, reason = solver.skip(**obj.get_objective())
    assert skip and "mini-batch" in reason


def test_eval_horizon_runs_the_meta_test_tasks_longer(bench):
    params = dict(dim=20, n_samples=10, n_train_tasks=3, n_test_tasks=3,
                  horizon=5)
    short = make_objective(bench, make_dataset(bench, "least_squares",
                                               **params))
    long = make_objective(bench, make_dataset(bench, "least_squares",
                                              eval_horizon=50, **params))
    result = gd_result(0.1)
    m_short = short.evaluate_result(result)
    m_long = long.evaluate_result(result)
    assert long.horizon == 5 and long.eval_horizon == 50
    assert m_long["excess_risk"] == pytest.approx(
        long.test_tasks.exact_gd_metrics(0.1, 50)["excess_risk"])
    assert m_short["excess_risk"] == pytest.approx(
        short.test_tasks.exact_gd_metrics(0.1, 5)["excess_risk"])


@pytest.mark.parametrize("name, value", [("batch_size", 0),
                                         ("eval_horizon", -1),
                                         ("batch_size", 2.5)])
def test_bad_batch_size_or_eval_horizon_names_the_parameter(bench, name,
                                                            value):
    dataset = make_dataset(bench, "least_squares", **{name: value})
    with pytest.raises(ValueError, match=name):
        dataset.check_parameters()
