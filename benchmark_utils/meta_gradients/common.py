"""What several estimators share: the truncation window and Gaussian
perturbations, as option sets with their checks.

Every estimator reaches the inner optimizer only through
:mod:`benchmark_utils.unroll` and the task contract: none of them but
``stable`` assumes linear tasks.
"""

import torch

from ..tasks import make_generator
from ..validation import check_int, check_positive
from .base import Option

DEFAULT_TRUNCATION = 10


def check_truncation(truncation, horizon):
    """``truncation`` K as an int in [1, horizon], else ValueError."""
    k = check_int("truncation", truncation)
    if k > horizon:
        raise ValueError(
            f"parameter 'truncation' must be an integer in [1, horizon="
            f"{horizon}] (the number of inner steps), got {truncation!r}"
        )
    return k


def segment_loss(objective):
    """The per-step loss of truncated estimators (``tbptt``,
    ``online-pes``): ``tasks, w -> (B,)``, the loss of the meta-objective's
    split at ``w``, or its log for the log objective."""
    def step_loss(tasks, w):
        loss = tasks.loss(objective.split)(w)
        return loss if objective.kind == "naive" else torch.log(loss)

    return step_loss


def check_seed(name, value):
    return check_int(name, value, minimum=0)


class TruncationWindow:
    """Option ``truncation`` K (None = min(10, T)); ``unsupported``
    refuses K > T with a ValueError naming the parameter."""

    options = {"truncation": Option(
        None, check_int, "truncation length K (None: min(10, T))")}

    def window(self, problem):
        """K for this problem; ValueError if K > T."""
        if self.truncation is None:
            return min(DEFAULT_TRUNCATION, problem.horizon)
        return check_truncation(self.truncation, problem.horizon)

    def unsupported(self, problem):
        self.window(problem)
        return None


class GaussianSearch:
    """Antithetic Gaussian perturbations of ``theta`` for ES-type estimators.

    Options ``sigma`` (> 0, the perturbation's scale in ``theta``'s own,
    unconstrained coordinates: for gradient descent ``theta = log eta``, so
    sigma is a relative scale of eta), ``pairs`` (>= 1, antithetic pairs
    per estimate) and ``seed`` (an integer >= 0; the solvers pass
    benchopt's seed). The state is the random generator: successive
    estimates of a run draw fresh noise, and a run repeats exactly.
    """

    stochastic = True
    options = {
        "sigma": Option(0.1, check_positive, "perturbation scale"),
        "pairs": Option(8, check_int, "antithetic pairs per estimate"),
        "seed": Option(0, check_seed, "seed of the perturbations"),
    }

    def init_state(self, problem, theta):
        return make_generator(self.seed)

    @staticmethod
    def noise(theta, generator):
        """A standard Gaussian draw shaped like ``theta`` (float64, drawn
        on the CPU generator, then placed on ``theta``'s device)."""
        return torch.randn(theta.shape, generator=generator,
                           dtype=torch.float64).to(theta.device)

    def point(self, theta, eps):
        """``theta`` moved by ``sigma * eps`` (in ``theta``'s dtype)."""
        return (theta.detach().double() + self.sigma * eps).to(theta.dtype)
