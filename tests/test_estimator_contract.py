"""Every registered meta-gradient estimator, present and future, through
the same checks (the contract of ``benchmark_utils/meta_gradients/base.py``):

- it reports its cost;
- overflow gives a non-finite estimate, never an exception (and a finite
  estimate there is the exact one);
- a seeded run repeats, and another seed draws other noise;
- where ``stable`` applies, the estimate matches it: exactly ("exact"),
  within its standard error ("unbiased"), or at T = 1, where every
  truncation is the whole run ("biased": exactly, or in expectation for a
  stochastic one).

A new module in ``benchmark_utils/meta_gradients/`` is picked up by the
registry and tested here with nothing to edit.
"""

import math

import pytest
import torch

from benchmark_utils.meta_gradients import ESTIMATORS, get_estimator
from benchmark_utils.tasks import make_generator, make_quadratic_tasks
from conftest import draws, gd_problem, log_eta

NAMES = sorted(ESTIMATORS)


@pytest.fixture(scope="module")
def wishart():
    """3 Wishart quadratics, d = 8: L is about 30, 2/L about 0.07."""
    return make_quadratic_tasks(3, 8, "wishart", 1.0, make_generator(4))


def small_noise(name, **options):
    """The estimator with a small perturbation where it has a scale (the
    smoothing bias of ES-type estimators is O(sigma^2)), few pairs, and
    random truncations where it draws them (8 + Exp(3) steps: they vary
    within the horizons here, and overflow still reaches the loss)."""
    declared = ESTIMATORS[name].options
    if "sigma" in declared:
        options.setdefault("sigma", 1e-3)
    if "pairs" in declared:
        options.setdefault("pairs", 2)
    if "truncation_exp" in declared:
        options.setdefault("truncation", 8)
        options.setdefault("truncation_exp", 3.0)
    return get_estimator(name, **options)


def one(est, problem, eta):
    theta = log_eta(eta)
    return est.estimate(problem, theta, est.init_state(problem, theta))[0]


def exact(problem, eta):
    """``dF/deta``, exactly."""
    return float(one(get_estimator("stable"), problem, eta).grad) / eta


def test_the_registry_finds_every_module():
    assert {"stable", "backprop", "truncated", "forward", "es", "pes",
            "greedy", "tbptt", "online-pes"} <= set(ESTIMATORS)
    for cls in ESTIMATORS.values():
        assert cls.target in ("exact", "unbiased", "biased")
        assert cls.stochastic == ("seed" in cls.options)


@pytest.mark.parametrize("name", NAMES)
def test_reports_its_cost(wishart, name):
    problem = gd_problem(wishart, 12)
    mg = one(small_noise(name), problem, 0.02)
    assert isinstance(mg.inner_gradient_evaluations, int)
    assert mg.inner_gradient_evaluations > 0
    assert isinstance(mg.loss, float)
    assert mg.grad.shape == log_eta(0.02).shape


@pytest.mark.parametrize("name", NAMES)
def test_overflow_is_a_non_finite_estimate_not_a_crash(wishart, name):
    """eta = 1e20 / L: every iterate past the first overflows float64 within
    a few steps. A finite estimate must then be the exact one."""
    problem = gd_problem(wishart, 50)
    eta = 1e20 / float(wishart.train.smoothness().max())
    mg = one(small_noise(name), problem, eta)
    finite = math.isfinite(mg.loss) and bool(torch.isfinite(mg.grad).all())
    if finite:
        assert float(mg.grad) == pytest.approx(
            exact(problem, eta) * eta, rel=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_a_seeded_run_repeats(wishart, name):
    problem = gd_problem(wishart, 10)
    first = draws(small_noise(name, **_seed(name, 1)), problem, 0.02, 2)
    again = draws(small_noise(name, **_seed(name, 1)), problem, 0.02, 2)
    assert torch.equal(first, again)
    if ESTIMATORS[name].stochastic:
        other = draws(small_noise(name, **_seed(name, 2)), problem, 0.02, 2)
        assert not torch.equal(first, other)
        assert first[0] != first[1]          # fresh noise at every estimate


def _seed(name, seed):
    return dict(seed=seed) if ESTIMATORS[name].stochastic else {}


@pytest.mark.parametrize("name", NAMES)
def test_matches_stable_where_it_applies(wishart, name):
    cls = ESTIMATORS[name]
    if cls.target == "exact":
        for horizon, eta, kind in ((1, 0.05, "log"), (10, 0.01, "log"),
                                   (10, 0.09, "log"), (10, 0.01, "naive")):
            problem = gd_problem(wishart, horizon, kind)
            got = float(one(small_noise(name), problem, eta).grad) / eta
            assert got == pytest.approx(exact(problem, eta), rel=1e-8)
    elif cls.target == "biased" and not cls.stochastic:
        for kind in ("log", "naive"):
            problem = gd_problem(wishart, 1, kind)
            got = float(one(small_noise(name), problem, 0.05).grad) / 0.05
            assert got == pytest.approx(exact(problem, 0.05), rel=1e-8)
    elif cls.target == "biased":          # stochastic: in expectation at T=1
        problem = gd_problem(wishart, 1)
        _assert_in_expectation(name, problem, exact(problem, 0.05))
    else:                     # unbiased: in expectation
        problem = gd_problem(wishart, 10)
        _assert_in_expectation(name, problem, exact(problem, 0.05))


def _assert_in_expectation(name, problem, ref):
    """The mean of 40 estimates at eta = 0.05 within 4 standard errors
    (and rounding: where the noise does not reach the estimate, such as
    random truncations at T = 1, the 40 are the exact value)."""
    options = dict(seed=11)
    if "pairs" in ESTIMATORS[name].options:
        options["pairs"] = 4
    got = draws(small_noise(name, **options), problem, 0.05, 40)
    se = float(got.std()) / math.sqrt(len(got))
    assert abs(float(got.mean()) - ref) < 4 * se + 1e-8 * abs(ref)
    assert se < 0.5 * abs(ref)               # the check has power
