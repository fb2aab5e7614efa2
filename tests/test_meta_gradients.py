"""The stable meta-gradient is exact; backprop agrees with it where float
arithmetic allows, and the naive/log phenomena of the paper show."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from benchmark_utils import quadratic_theory as theory
from benchmark_utils.exact_arithmetic import one_minus_product, two_product
from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.tasks import (
    make_generator, make_least_squares_tasks, make_quadratic_tasks,
    quadratic_tasks,
)
from conftest import estimate, gd_problem, log_eta, step_size_grad


def stable_grad(tasks, eta, horizon, kind="log", split="train"):
    """``dF/deta`` by the stable estimator."""
    return step_size_grad("stable", gd_problem(tasks, horizon, kind, split),
                          eta)


def backprop_grad(tasks, eta, horizon, kind="log", split="train"):
    return step_size_grad("backprop", gd_problem(tasks, horizon, kind, split),
                          eta)


def through_theta(eta):
    """The step size gradient descent runs with for ``theta = log eta``:
    ``exp(log eta)``, which may differ from eta by an ulp (next to
    ``eta = 1/lambda`` that ulp matters, so references use this one)."""
    return float(torch.exp(log_eta(eta)))


def converges_exactly(eigvals, coeffs, eta):
    """``eta lambda_i = 1`` exactly for every ``i`` with ``c_i != 0``: then
    ``w_T`` is the minimiser, ``f(w_T) = 0``, and ``F = (1/T) log f(w_T)``
    is ``-inf`` with no derivative (the one edge both property tests treat
    apart, as the library defines it)."""
    r = one_minus_product(eta, np.asarray(eigvals, dtype=np.float64))
    return bool(np.all((r == 0) | (np.asarray(coeffs) == 0)))


def assert_exact_convergence_is_defined(tasks, eta, horizon):
    """At exact convergence the library returns F = -inf and a NaN
    derivative: the meta-training loop counts such a step as a failure."""
    mg = estimate("stable", gd_problem(tasks, horizon), eta)
    assert mg.loss == -np.inf
    assert np.isnan(float(mg.grad))


@st.composite
def spectra(draw):
    """A random quadratic: eigenvalues in [1e-3 L, L], |c_i| in [1e-3, 1]."""
    dim = draw(st.integers(1, 12))
    scale = 10 ** draw(st.floats(-2, 2))
    logs = draw(st.lists(st.floats(-3, 0), min_size=dim, max_size=dim))
    eigvals = np.sort(10 ** np.array(logs))
    eigvals = eigvals / eigvals.max() * scale
    clogs = draw(st.lists(st.floats(-3, 0), min_size=dim, max_size=dim))
    signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=dim,
                          max_size=dim))
    coeffs = np.array(signs) * 10 ** np.array(clogs)
    seed = draw(st.integers(0, 2 ** 31))
    basis, _ = np.linalg.qr(np.random.default_rng(seed).normal(
        size=(dim, dim)))
    return eigvals, coeffs, basis


@settings(max_examples=300, deadline=None)
@given(spectra(), st.floats(0, 5), st.floats(1e-3, 3.0))
def test_stable_matches_closed_form(spectrum, log10_horizon, eta_times_L):
    """d/deta (1/T) log f(w_T) to 1e-8 relative, T in [1, 1e5], eta in
    (0, 3/L] (past 2/L too), against the log-sum-exp closed form; near a
    zero crossing to 1e-12 absolute in units of L (F' scales like L)."""
    eigvals, coeffs, basis = spectrum
    horizon = int(round(10 ** log10_horizon))
    eta = through_theta(eta_times_L / eigvals.max())
    tasks = quadratic_tasks(eigvals[None], basis[None], coeffs[None])
    if converges_exactly(eigvals, coeffs, eta):
        assert_exact_convergence_is_defined(tasks, eta, horizon)
        return
    got = stable_grad(tasks, eta, horizon)
    ref = theory.log_objective_derivative(eigvals[None], coeffs[None], eta,
                                          horizon)[0]
    assert np.isfinite(got)
    assert abs(got - ref) <= 1e-8 * abs(ref) + 1e-12 * eigvals.max()


@pytest.mark.parametrize("horizon", [1, 80, 1000, 10000, 100000])
def test_stable_exact_where_the_derivative_crosses_zero(horizon):
    """At eta*, F'(eta*) = 0: the error is absolute, 1e-12."""
    dim = 20
    eigvals = np.linspace(0.01, 1, dim)[None]
    coeffs = np.full((1, dim), dim ** -0.5)
    basis, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(dim, dim)))
    tasks = quadratic_tasks(eigvals, basis[None], coeffs)
    eta_star = theory.optimal_step_size(eigvals, coeffs, horizon)
    assert abs(stable_grad(tasks, eta_star, horizon)) < 1e-12
    # and eta* is the minimiser, not just a stationary point
    values = [theory.log_objective(eigvals, coeffs, eta, horizon)[0]
              for eta in eta_star * np.array([1 - 1e-4, 1, 1 + 1e-4])]
    assert values[1] <= min(values[0], values[2])


@pytest.mark.parametrize("eta", [0.003, 0.02, 0.03, 0.05])
@pytest.mark.parametrize("horizon", [1, 7, 40])
def test_stable_matches_backprop_on_wishart(eta, horizon):
    """Spectrum from an SVD (Wishart), eta below and past 2/L (~0.028)."""
    tasks = make_quadratic_tasks(3, 20, "wishart", 1.0, make_generator(1))
    for kind in ("log", "naive"):
        got = stable_grad(tasks, eta, horizon, kind)
        ref = backprop_grad(tasks, eta, horizon, kind)
        assert got == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("split", ["train", "validation"])
@pytest.mark.parametrize("eta", [0.01, 0.2, 0.4])
def test_stable_matches_backprop_on_least_squares(split, eta):
    """Affine dynamics (GD from 0 on y), with n < d and n > d, both splits."""
    for n_samples in (12, 60):
        tasks = make_least_squares_tasks(4, 30, n_samples, 0.5,
                                         make_generator(2))
        for kind in ("log", "naive"):
            got = stable_grad(tasks, eta, 25, kind, split)
            ref = backprop_grad(tasks, eta, 25, kind, split)
            assert got == pytest.approx(ref, rel=1e-8)


def test_naive_matches_closed_form():
    dim = 10
    eigvals = np.linspace(0.1, 1, dim)[None]
    coeffs = np.random.default_rng(3).normal(size=(1, dim))
    tasks = quadratic_tasks(eigvals, np.eye(dim)[None], coeffs)
    for eta in (0.5, 1.5, 2.2):
        for horizon in (1, 10, 100):
            ref = theory.naive_objective_derivative(eigvals, coeffs, eta,
                                                    horizon)[0]
            assert stable_grad(tasks, eta, horizon, "naive") == (
                pytest.approx(ref, rel=1e-10))


def _slope_of_log_abs_naive_gradient(tasks, eta, horizons):
    logs = [np.log(abs(backprop_grad(tasks, eta, T, "naive")))
            for T in horizons]
    return np.polyfit(horizons, logs, 1)[0]


def test_naive_meta_gradient_explodes_or_vanishes_exponentially():
    """log |F'| is linear in T: increasing past 2/L, decreasing below."""
    tasks = make_quadratic_tasks(1, 20, "linspace", 10.0, make_generator(4))
    horizons = np.arange(20, 201, 20)
    assert _slope_of_log_abs_naive_gradient(tasks, 2.2, horizons) > 0.05
    assert _slope_of_log_abs_naive_gradient(tasks, 1.0, horizons) < -0.05
    assert _slope_of_log_abs_naive_gradient(tasks, 0.2, horizons) < -0.01


def test_log_meta_gradient_is_bounded_for_every_horizon():
    """Paper Section 3: |F'| has a bound independent of T. Here (L = 1,
    condition number 100) it stays below 2.5 from T = 1 to 1e5, below and
    past 2/L, where the naive derivative spans hundreds of orders of
    magnitude."""
    tasks = make_quadratic_tasks(1, 50, "linspace", 100.0, make_generator(5))
    for eta in (0.05, 1.0, 1.9, 1.99, 2.0, 2.1, 3.0):
        grads = [abs(stable_grad(tasks, eta, T))
                 for T in (1, 10, 100, 1000, 10000, 100000)]
        assert max(grads) < 2.5


def test_backprop_breaks_at_long_horizons_where_stable_does_not():
    """float32 backprop on the log objective: non-finite past 2/L at
    T = 1000 (f(w_T) overflows); stable stays finite and exact."""
    tasks = make_quadratic_tasks(1, 50, "linspace", 100.0, make_generator(6),
                                 torch.float32)
    grad = backprop_grad(tasks, 2.1, 1000)
    assert not np.isfinite(grad)
    exact = stable_grad(tasks, 2.1, 1000)
    assert exact == pytest.approx(2 / 1.1, rel=1e-6)


def test_unknown_estimator_is_a_clear_error():
    with pytest.raises(ValueError, match="'gradient'.*'backprop'.*'stable'"):
        get_estimator("exact")
    with pytest.raises(ValueError, match="'hypergradient' was renamed "
                                         "'greedy'"):
        get_estimator("hypergradient")


def mpmath_log_derivative(eigvals, coeffs, eta, horizon):
    """``d/deta (1/T) log f(w_T)`` in 60-digit arithmetic, with no
    rescaling: ``-2 sum lambda^2 c^2 r^(2T-1) / sum lambda c^2 r^(2T)``,
    ``r = 1 - eta lambda`` (mpmath's exponent range is unbounded)."""
    import mpmath

    with mpmath.workdps(60):
        eta = mpmath.mpf(float(eta))
        num = den = mpmath.mpf(0)
        for lam, c in zip(eigvals, coeffs):
            lam, c2 = mpmath.mpf(float(lam)), mpmath.mpf(float(c)) ** 2
            r = 1 - eta * lam
            num += lam ** 2 * c2 * r ** (2 * horizon - 1)
            den += lam * c2 * r ** (2 * horizon)
        if den == 0:        # eta = 1/lambda_i for every i with c_i != 0:
            return None     # w_T = 0 exactly, log f(w_T) = -inf
        return float(-2 * num / den)


@settings(max_examples=150, deadline=None)
@given(spectra(), st.floats(0, 5), st.floats(-3, 1))
def test_stable_matches_extended_precision(
        spectrum, log10_horizon, log10_eta_times_L):
    """Over random spectra and dims, horizons 1 to 1e5 and eta up to 10/L
    (far past 2/L, where f(w_T) is e^(+4e5)): the stable meta-gradient
    equals an mpmath reference to 1e-8 relative (1e-12 L absolute where
    it crosses zero, also next to eta = 1/lambda_i, thanks to the exact
    product), and every meta-test metric is finite or +inf."""
    eigvals, coeffs, basis = spectrum
    horizon = int(round(10 ** log10_horizon))
    eta = through_theta(10 ** log10_eta_times_L / eigvals.max())
    tasks = quadratic_tasks(eigvals[None], basis[None], coeffs[None])
    if converges_exactly(eigvals, coeffs, eta):
        assert_exact_convergence_is_defined(tasks, eta, horizon)
        return
    got = stable_grad(tasks, eta, horizon)
    ref = mpmath_log_derivative(eigvals, coeffs, eta, horizon)
    assert ref is not None
    assert np.isfinite(got)
    assert abs(got - ref) <= 1e-8 * abs(ref) + 1e-12 * eigvals.max()
    for name, value in tasks.exact_gd_metrics(eta, horizon).items():
        assert value == np.inf or np.isfinite(value), (name, value)


@pytest.mark.parametrize("dim", [1, 3])
@pytest.mark.parametrize("horizon", [1, 80])
def test_exact_convergence_is_minus_inf_and_a_counted_failure(dim,
                                                              horizon):
    """Every eigenvalue 4 and eta = 1/4 (exact in binary): one step lands on
    the minimiser. The log objective is -inf with a NaN derivative, and
    the meta-training loop counts the step as a failure, keeping theta."""
    from benchmark_utils.meta_optimizers import make_meta_optimizer
    from benchmark_utils.meta_train import MetaTrainer

    eigvals = np.full(dim, 4.0)
    coeffs = np.linspace(1.0, 2.0, dim)
    tasks = quadratic_tasks(eigvals[None], np.eye(dim)[None], coeffs[None])
    assert converges_exactly(eigvals, coeffs, 0.25)
    assert_exact_convergence_is_defined(tasks, 0.25, horizon)
    assert np.isnan(theory.log_objective_derivative(
        eigvals[None], coeffs[None], 0.25, horizon)[0])
    problem = gd_problem(tasks, horizon)
    trainer = MetaTrainer(problem, get_estimator("stable"),
                          make_meta_optimizer("brent", None,
                                              problem.optimizer),
                          log_eta(0.25))
    trainer.step()
    assert trainer.failures == 1
    assert torch.equal(trainer.theta, log_eta(0.25))
    metrics = tasks.exact_gd_metrics(0.25, horizon)
    assert metrics["value"] == 0.0 and metrics["log_objective"] == -np.inf


def test_two_product_is_exact():
    """hi + lo is the exact product (checked in rational arithmetic), and
    1 - eta lambda keeps its relative accuracy next to eta = 1/lambda."""
    from fractions import Fraction

    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.1, 10, 1000), rng.uniform(0.1, 10, 1000)
    hi, lo = two_product(a, b)
    for x, y, h, e in zip(a, b, hi, lo):
        assert Fraction(h) + Fraction(e) == Fraction(x) * Fraction(y)
    lam = 3.0
    eta = np.nextafter(1 / lam, 1.0)        # 1 ulp past 1/lambda
    r = one_minus_product(eta, lam)
    assert float(Fraction(1) - Fraction(eta) * Fraction(lam)) == r
