"""Meta-training through the solvers, as benchopt drives them."""

import math

import pytest

from conftest import make_dataset, make_objective, run_solver


def quadratic(bench, **params):
    dataset = make_dataset(bench, "quadratic", **params)
    return make_objective(bench, dataset)


def test_stable_log_reaches_eta_star_on_the_paper_quadratic(bench):
    """Paper Fig. 1: d = 20 Wishart, T = 80, one task, eta0 = 0.1 (past 2/L:
    f(w_T) starts above 1e100), default meta-optimizer."""
    objective = quadratic(bench, spectrum="wishart", dim=20, horizon=80,
                          n_train_tasks=1)
    solver, metrics = run_solver(bench, objective, "log-unrolled",
                                 gradient="stable", eta0=0.1)
    assert metrics["step_size_rel_error"] < 1e-3
    assert metrics["meta_grad_failures"] == 0
    assert solver.trainer.meta_steps <= 60     # stopped once converged


@pytest.mark.parametrize("spectrum", ["wishart", "linspace"])
@pytest.mark.parametrize("horizon", [1, 80, 100000])
@pytest.mark.parametrize("eta0_times_L", [1e-4, 0.5, 2.0, 10.0])
def test_default_meta_optimizer_from_any_start(bench, spectrum, horizon,
                                               eta0_times_L):
    """From any eta0 in (0, 10/L], horizons up to 1e5: rel. error < 1e-3
    within 40 meta-gradients."""
    objective = quadratic(bench, spectrum=spectrum, dim=20,
                          horizon=horizon, n_train_tasks=2, n_test_tasks=2)
    L = float(objective.train_tasks.train.smoothness().max())
    _, metrics = run_solver(bench, objective, "log-unrolled",
                            gradient="stable", eta0=eta0_times_L / L,
                            max_meta_steps=40)
    assert metrics["step_size_rel_error"] < 1e-3


def test_paper_projected_gd_is_selectable(bench):
    """The paper's meta step meta_lr / sqrt(k), projected on eta >= 0."""
    objective = quadratic(bench, spectrum="wishart", dim=20, horizon=80)
    _, metrics = run_solver(bench, objective, "log-unrolled",
                            gradient="stable", meta_optimizer="projected-gd",
                            meta_lr=0.001, max_meta_steps=1000)
    assert metrics["step_size_rel_error"] < 1e-3


def test_naive_backprop_reaches_eta_star_at_short_horizon(bench):
    objective = quadratic(bench, spectrum="linspace", dim=20, horizon=20)
    _, metrics = run_solver(bench, objective, "naive-unrolled", eta0=0.5)
    assert metrics["step_size_rel_error"] < 1e-3


def test_backprop_failure_shows_in_the_results(bench):
    """float32, T = 1000, eta0 past 2/L: every backprop meta-gradient is
    non-finite; the run completes, eta stays finite, the results say so."""
    objective = quadratic(bench, spectrum="wishart", dim=20, horizon=1000,
                          dtype="float32")
    solver, metrics = run_solver(bench, objective, "log-unrolled",
                                 gradient="backprop", eta0=0.1)
    assert metrics["meta_grad_failures"] == solver.trainer.meta_steps > 0
    assert metrics["step_size"] == pytest.approx(0.1, rel=1e-15)
    assert metrics["value"] == math.inf
    assert metrics["diverged_fraction"] == 1.0
    assert math.isfinite(metrics["log_objective"])
    assert all(not math.isnan(v) for v in metrics.values())
