"""Every meta-gradient estimator against the exact one, where theory says
how they must agree; and on a non-linear task, against each other."""

from dataclasses import dataclass
import math

import pytest
import torch

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_gradients.stable import Stable
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tasks import (
    TaskBatch, make_generator, make_least_squares_tasks, make_quadratic_tasks,
)
from conftest import (
    draws, estimate, gd_problem, make_dataset, make_objective, run_solver,
    step_size_grad as grad,
)
from studies import estimator_comparison


def exact(problem, eta):
    return grad("stable", problem, eta)


@pytest.fixture(scope="module")
def wishart():
    """3 Wishart quadratics, d = 8: L is about 30, 2/L about 0.07."""
    return make_quadratic_tasks(3, 8, "wishart", 1.0, make_generator(4))


@pytest.fixture(scope="module")
def least_squares():
    return make_least_squares_tasks(3, 10, 14, 0.5, make_generator(5))


@dataclass(frozen=True, eq=False)
class TanhRegression(TaskBatch):
    """A non-linear task family through the task contract only: one tanh
    unit, ``f_j(w) = 1/(2n) ||tanh(X_j w) - y_j||^2 + 1e-3``, whose inner
    gradient is ``torch.func.grad`` of the loss (differentiable by autograd
    and by ``torch.func.jvp``, like a small MLP's)."""

    X: torch.Tensor
    y: torch.Tensor
    family: str = "tanh"

    @property
    def w0(self):
        return torch.zeros(self.X.shape[0], self.X.shape[-1],
                           dtype=self.X.dtype)

    def loss(self, split):
        def losses(w):
            pred = torch.tanh(torch.matmul(self.X, w.unsqueeze(-1)))
            return 0.5 * (pred.squeeze(-1) - self.y).square().mean(-1) + 1e-3
        return losses

    def inner_loss(self, w, step):
        return self.loss("train")(w)

    def inner_grad(self, w, step):
        return torch.func.grad(lambda v: self.loss("train")(v).sum())(w)

    def metrics(self, w, horizon):
        value = float(self.loss("train")(w).mean())
        return dict(value=value, train_loss=value,
                    log_objective=math.log(value) / horizon,
                    diverged_fraction=0.0)


@pytest.fixture(scope="module")
def tanh_problem():
    gen = make_generator(6)
    X = torch.randn(2, 12, 5, generator=gen, dtype=torch.float64)
    y = torch.tanh(X @ torch.randn(2, 5, 1, generator=gen,
                                   dtype=torch.float64)).squeeze(-1)
    return MetaProblem(TanhRegression(X, y), GradientDescent(),
                       MetaObjective("log", "train"), 15)


# --- deterministic estimators: exact where theory says so -----------------

@pytest.mark.parametrize("name", ["backprop", "forward"])
@pytest.mark.parametrize("horizon", [1, 10, 40])
@pytest.mark.parametrize("eta", [0.01, 0.05, 0.09])
def test_backprop_and_forward_match_exact_on_quadratics(wishart, name,
                                                        horizon, eta):
    """Float64, short T, eta below and past 2/L: to 1e-8 relative."""
    for kind in ("log", "naive"):
        problem = gd_problem(wishart, horizon, kind)
        assert grad(name, problem, eta) == pytest.approx(
            exact(problem, eta), rel=1e-8)


@pytest.mark.parametrize("name", ["backprop", "forward"])
@pytest.mark.parametrize("split", ["train", "validation"])
def test_backprop_and_forward_match_exact_on_least_squares(least_squares,
                                                           name, split):
    for eta in (0.05, 0.3):
        problem = gd_problem(least_squares, 20, "log", split)
        assert grad(name, problem, eta) == pytest.approx(
            exact(problem, eta), rel=1e-8)


def test_forward_equals_backprop_on_a_nonlinear_task(tanh_problem):
    got = grad("forward", tanh_problem, 0.7)
    assert got == pytest.approx(grad("backprop", tanh_problem, 0.7),
                                rel=1e-10)
    assert abs(got) > 1e-4           # not a trivial zero


def test_forward_refuses_an_inner_grad_it_cannot_differentiate():
    """An inner gradient by ``torch.autograd.grad`` would silently lose its
    Jacobian under forward-mode AD: ``unsupported`` says so instead."""

    @dataclass(frozen=True, eq=False)
    class AutogradTasks(TanhRegression):
        def inner_grad(self, w, step):
            with torch.enable_grad():
                w_ = w if w.requires_grad else w.detach().requires_grad_()
                (g,) = torch.autograd.grad(self.loss("train")(w_).sum(), w_,
                                           create_graph=True)
            return g

    tasks = AutogradTasks(torch.ones(1, 3, 2, dtype=torch.float64),
                          torch.zeros(1, 3, dtype=torch.float64))
    problem = MetaProblem(tasks, GradientDescent(), MetaObjective(), 5)
    reason = get_estimator("forward").unsupported(problem)
    assert reason is not None and "torch.func" in reason
    assert get_estimator("backprop").unsupported(problem) is None


@pytest.mark.parametrize("horizon", [1, 7, 30])
def test_truncated_with_K_equal_T_is_full_backprop(wishart, tanh_problem,
                                                   horizon):
    problem = gd_problem(wishart, horizon)
    for p, eta in ((problem, 0.05), (tanh_problem, 0.7)):
        K = p.horizon if p is tanh_problem else horizon
        full = estimate("backprop", p, eta)
        trunc = estimate("truncated", p, eta, truncation=K)
        assert torch.equal(trunc.grad, full.grad)
        assert trunc.loss == full.loss


def test_truncated_is_K_over_T_of_exact_for_gd_on_linear_tasks(
        wishart, least_squares):
    """GD on a linear task: the gradient at step k is ``A^k g_0``, so every
    step contributes the same ``-A^(T-1) g_0`` to ``dw_T/deta``: the last K
    steps give exactly K/T of the derivative, with the right sign."""
    for tasks, eta in ((wishart, 0.05), (least_squares, 0.3)):
        problem = gd_problem(tasks, 30)
        for K in (1, 4, 10):
            assert grad("truncated", problem, eta, truncation=K) == (
                pytest.approx(K / 30 * exact(problem, eta), rel=1e-8))


def test_truncated_is_biased_on_a_nonlinear_task(tanh_problem):
    """Off linear dynamics the truncated estimate is not a rescaling."""
    full = grad("backprop", tanh_problem, 0.7)
    K = 5
    trunc = grad("truncated", tanh_problem, 0.7, truncation=K)
    assert abs(trunc - K / tanh_problem.horizon * full) > 1e-3 * abs(full)


def test_greedy_is_exact_for_one_step_and_greedy_after(wishart):
    problem1 = gd_problem(wishart, 1)
    assert grad("greedy", problem1, 0.05) == pytest.approx(
        exact(problem1, 0.05), rel=1e-10)
    # naive training objective: h = -sum_k <grad f(w_{k+1}), grad f(w_k)>
    T, eta = 6, 0.02
    problem = gd_problem(wishart, T, "naive")
    w, h = wishart.w0, 0.0
    for _ in range(T):
        g = wishart.train.grad(w)
        w = w - eta * g
        h -= float((wishart.train.grad(w) * g).sum(-1).mean())
    assert grad("greedy", problem, eta) == pytest.approx(h, rel=1e-10)
    assert abs(h - exact(problem, eta)) > 1e-3 * abs(h)   # greedy != exact


# --- stochastic estimators: unbiased within their standard error ----------

@pytest.mark.parametrize("name, options", [
    ("es", dict(pairs=4)),
    ("pes", dict(pairs=4, truncation=3)),      # 3 does not divide T = 10
])
def test_es_and_pes_are_unbiased_within_their_standard_error(
        wishart, name, options):
    """With sigma = 1e-3 (in log eta) the smoothing bias is O(sigma^2),
    far below the standard error of 40 estimates."""
    problem = gd_problem(wishart, 10)
    eta, ref = 0.05, exact(problem, 0.05)
    est = get_estimator(name, sigma=1e-3, seed=11, **options)
    got = draws(est, problem, eta, 40)
    se = float(got.std()) / math.sqrt(len(got))
    assert abs(float(got.mean()) - ref) < 4 * se
    assert se < 0.5 * abs(ref)       # the test has power


def test_pes_unbiased_on_a_nonlinear_task(tanh_problem):
    ref = grad("backprop", tanh_problem, 0.7)
    est = get_estimator("pes", sigma=1e-3, pairs=4, truncation=4, seed=3)
    got = draws(est, tanh_problem, 0.7, 30)
    se = float(got.std()) / math.sqrt(len(got))
    assert abs(float(got.mean()) - ref) < 4 * se
    assert se < 0.5 * abs(ref)


def test_es_estimates_the_smoothed_objective(wishart):
    """With a large sigma ES is unbiased for E F(u + sigma eps), not F:
    compare with the exact smoothed derivative by Gauss-Hermite
    quadrature of the exact meta-gradient (u = log eta)."""
    import numpy as np
    problem = gd_problem(wishart, 10)
    eta, sigma = 0.04, 0.3     # F'(eta) < 0 < smoothed derivative
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    # d/du E F(e^(u + sigma z)) = E[F'(eta e^(sigma z)) eta e^(sigma z)]
    smoothed = sum(
        w * exact(problem, eta * math.exp(sigma * z)) * eta
        * math.exp(sigma * z) for z, w in zip(nodes, weights)
    ) / weights.sum() / eta
    est = get_estimator("es", sigma=sigma, pairs=8, seed=5)
    got = draws(est, problem, eta, 40)
    se = float(got.std()) / math.sqrt(len(got))
    assert abs(float(got.mean()) - smoothed) < 4 * se
    assert abs(smoothed - exact(problem, eta)) > 4 * se   # it matters


def test_stochastic_estimators_repeat_with_their_seed(wishart):
    problem = gd_problem(wishart, 10)
    for name in ("es", "pes"):
        a = grad(name, problem, 0.05, pairs=2, seed=1)
        assert grad(name, problem, 0.05, pairs=2, seed=1) == a
        assert grad(name, problem, 0.05, pairs=2, seed=2) != a


# --- costs, failures and options -------------------------------------------

def test_inner_gradient_evaluations(wishart):
    T, B = 12, wishart.n_tasks
    problem = gd_problem(wishart, T)
    expected = {"backprop": T * B, "forward": T * B, "truncated": T * B,
                "greedy": T * B, "es": 2 * 3 * T * B,
                "pes": 2 * 3 * T * B}
    for name, cost in expected.items():
        options = dict(pairs=3) if name in ("es", "pes") else {}
        mg = estimate(name, problem, 0.05, **options)
        assert mg.inner_gradient_evaluations == cost, name
    assert estimate("stable", problem, 0.05).inner_gradient_evaluations > 0


def test_options_are_checked_and_routed(wishart):
    with pytest.raises(ValueError, match="'estimator option' must be"):
        get_estimator("es", sigmas=0.1)
    with pytest.raises(ValueError, match="'seed' must be an integer >= 0"):
        get_estimator("pes", seed=-1)
    # options of other estimators are ignored; None = the default
    assert isinstance(get_estimator("stable", truncation=5), Stable)
    est = get_estimator("truncated", truncation=None, sigma=0.1)
    problem = gd_problem(wishart, 4)
    assert est.window(problem) == 4 and est.unsupported(problem) is None
    with pytest.raises(ValueError, match=r"'truncation' must .*horizon=4"):
        get_estimator("truncated", truncation=5).unsupported(problem)


# --- the solvers and the comparison ----------------------------------------

@pytest.fixture(scope="module")
def small_quadratic(bench):
    dataset = make_dataset(bench, "quadratic", spectrum="linspace", dim=10,
                           horizon=30, n_train_tasks=2, n_test_tasks=2)
    return make_objective(bench, dataset)


@pytest.mark.parametrize("gradient, options, tol", [
    ("forward", {}, 1e-10),
    ("truncated", dict(truncation=5), 1e-10),   # K/T of exact: same sign
    ("es", dict(sigma=0.01, pairs=4), 0.05),
    ("pes", dict(sigma=0.01, pairs=4, truncation=10), 0.1),
])
def test_solver_meta_trains_with_each_estimator(bench, small_quadratic,
                                                gradient, options, tol):
    solver, metrics = run_solver(bench, small_quadratic, "log-unrolled",
                                 max_meta_steps=40, gradient=gradient,
                                 **options)
    assert metrics["step_size_rel_error"] < tol
    assert metrics["inner_gradient_evaluations"] > 0
    if gradient in ("es", "pes"):   # seeded by benchopt: it repeats
        _, again = run_solver(bench, small_quadratic, "log-unrolled",
                              max_meta_steps=40, gradient=gradient,
                              **options)
        assert again["step_size"] == metrics["step_size"]


@pytest.mark.parametrize("gradient", ["backprop", "truncated", "forward",
                                      "es", "pes", "greedy"])
def test_train_by_validation_takes_every_estimator(bench, gradient):
    dataset = make_dataset(bench, "least_squares", dim=6, n_samples=8,
                           n_train_tasks=2, n_test_tasks=2, horizon=12)
    obj = make_objective(bench, dataset)
    _, metrics = run_solver(bench, obj, "train-by-validation",
                            max_meta_steps=6, gradient=gradient, pairs=2,
                            truncation=4)
    _, exact_run = run_solver(bench, obj, "train-by-validation",
                              max_meta_steps=6)
    assert metrics["meta_grad_failures"] == 0
    assert metrics["step_size"] != 0.1        # it moved from eta0
    assert metrics["inner_gradient_evaluations"] > 0
    if gradient in ("backprop", "truncated", "forward"):
        # exact or (truncated on linear GD) a positive multiple of it:
        # the sign-driven default meta-optimizer takes the same path
        assert metrics["step_size"] == pytest.approx(
            exact_run["step_size"], rel=1e-8)


def test_greedy_solver_stops_short_of_eta_star(bench, small_quadratic):
    """The greedy estimate's zero is not eta*."""
    _, metrics = run_solver(bench, small_quadratic, "log-unrolled",
                            max_meta_steps=40, gradient="greedy")
    assert metrics["step_size_rel_error"] > 0.05
    assert metrics["meta_grad_failures"] == 0


def test_quick_comparison_runs_and_scores(tmp_path):
    try:
        import matplotlib  # noqa: F401  (extra "figures")
        figures = ["estimators_error.png", "estimators_cost.png",
                   "estimators_meta_training.png"]
    except ImportError:
        figures = []
    rows, runs = estimator_comparison.main(
        ["--quick", "--out", str(tmp_path)]
        + ([] if figures else ["--no-figures"]))
    by = {(r["estimator"], r["horizon"], r["eta_times_L"], r["dtype"]): r
          for r in rows}
    for dtype in ("float32", "float64"):
        assert by[("stable", 100, 2.1, dtype)]["rel_bias"] == pytest.approx(
            0, abs=1e-6)
        assert abs(by[("backprop", 10, 0.5, dtype)]["rel_bias"]) < 1e-5
        trunc = by[("truncated(K=10)", 100, 0.5, dtype)]
        ratio = trunc["mean"] / trunc["exact"]
        assert ratio == pytest.approx(0.1, abs=1e-5)
    assert by[("es(sigma=0.1)", 10, 0.5, "float64")]["rel_std"] > 0
    assert all(r["cost"] > 0 for r in rows)
    trained = {r["estimator"]: r for r in runs}
    assert trained["stable"]["final_rel_error"] < 1e-10
    for name in ["estimators.csv", "meta_training.csv",
                 "estimators.json"] + figures:
        assert (tmp_path / name).stat().st_size > 0


def test_backprop_memory_grows_with_the_horizon_forward_mode_does_not():
    # each in a fresh process: inside the test session, resident memory
    # freed by earlier tests made forward mode's figure noise (3.6 MB once)
    peak = estimator_comparison.peak_memory
    backprop = peak("backprop", 2000, "float64")
    if math.isnan(backprop):
        pytest.skip("peak memory is measured on Linux only")
    assert backprop > 10 * max(peak("forward", 2000, "float64"), 0.1)
    assert backprop > 5.0                      # MB: the stored graph
