"""What the estimators share: option checks, the meta-loss of an iterate,
plain evaluations of the meta-objective, Gaussian perturbations.

Every estimator reaches the inner optimizer only through
:mod:`benchmark_utils.unroll` and the task protocol (``w0``,
``inner_grad(w, k)``, ``loss(split)``, ``n_tasks``, ``dtype``): none of
them but ``stable`` assumes linear tasks.
"""

import math

import torch

from ..inner_optimizers import GradientDescent
from ..tasks import make_generator
from ..unroll import unroll
from ..validation import check_int, check_positive


def check_truncation(truncation, horizon):
    """``truncation`` K as an int in [1, horizon], else ValueError."""
    k = check_int("truncation", truncation)
    if k > horizon:
        raise ValueError(
            f"parameter 'truncation' must be an integer in [1, horizon="
            f"{horizon}] (the number of inner steps), got {truncation!r}"
        )
    return k


def inner_theta(theta, tasks):
    """``theta`` detached, in the tasks' dtype (what the unroll uses)."""
    return theta.detach().to(tasks.dtype)


def meta_loss(problem, w, tasks=None):
    """The meta-objective of iterate ``w`` (B, d): a 0-d tensor; ``tasks``
    (default ``problem.tasks``) is the batch a persistent run is on."""
    tasks = problem.tasks if tasks is None else tasks
    return problem.objective(tasks, w, problem.horizon)


def run_cost(problem, runs=1):
    """Inner-gradient evaluations of ``runs`` full unrolls."""
    return runs * problem.horizon * problem.tasks.n_tasks


def evaluate(problem, theta):
    """``F(theta)`` by the plain unroll, without gradients, as a float
    (inf or NaN where the unrolled loss leaves the dtype's range)."""
    with torch.no_grad():
        w_T = unroll(problem.tasks, problem.optimizer,
                     inner_theta(theta, problem.tasks), problem.horizon)
        return float(meta_loss(problem, w_T))


DEFAULT_TRUNCATION = 10


class TruncationWindow:
    """The truncation length K of an estimator (option ``truncation``,
    None = min(10, T)); ``unsupported`` refuses K > T."""

    def _set_truncation(self, truncation):
        if truncation is not None:
            check_truncation(truncation, truncation)
        self.truncation = truncation

    def window(self, problem):
        """K for this problem; ValueError if K > T."""
        if self.truncation is None:
            return min(DEFAULT_TRUNCATION, problem.horizon)
        return check_truncation(self.truncation, problem.horizon)

    def unsupported(self, problem):
        self.window(problem)
        return None


class GaussianSearch:
    """Antithetic Gaussian perturbations for ES-type estimators.

    Options ``sigma`` (> 0, the perturbation's scale), ``pairs`` (>= 1,
    antithetic pairs per estimate) and ``seed`` (an integer >= 0; the
    solvers pass ``benchopt``'s ``get_seed``): successive estimates draw
    fresh noise from one generator, so a run repeats exactly.

    Perturbations act on ``u = log theta`` when the inner optimizer is
    gradient descent (``theta`` = the step size, > 0): ``theta * exp(+-sigma
    eps)`` stays positive and sigma is a relative scale; otherwise on
    ``u = theta`` itself. The estimate of ``dF/du`` is turned into
    ``dF/dtheta`` by the chain rule (``dF/dtheta = dF/du / theta`` in log
    space).
    """

    OPTIONS = ("sigma", "pairs", "seed")

    def __init__(self, sigma=0.1, pairs=8, seed=0):
        self.sigma = check_positive("sigma", sigma)
        self.pairs = check_int("pairs", pairs)
        self.seed = check_int("seed", seed, minimum=0)
        self.generator = make_generator(self.seed)

    @staticmethod
    def log_space(problem):
        return isinstance(problem.optimizer, GradientDescent)

    def noise(self, theta):
        """A standard Gaussian draw shaped like ``theta`` (float64)."""
        return torch.randn(theta.shape, generator=self.generator,
                           dtype=torch.float64)

    def point(self, problem, theta, eps):
        """``theta`` moved by ``sigma * eps`` in the search space."""
        theta = theta.detach().double()
        if self.log_space(problem):
            return theta * torch.exp(self.sigma * eps)
        return theta + self.sigma * eps

    def to_theta_grad(self, problem, theta, grad_u):
        """``dF/dtheta`` from ``dF/du``."""
        if self.log_space(problem):
            grad_u = grad_u / theta.detach().double()
        return grad_u.to(theta.dtype)

    def unsupported(self, problem):
        return None


def finite_or_nan(x):
    """``x`` (a float) if finite, else NaN: a failed estimate."""
    return x if math.isfinite(x) else math.nan
