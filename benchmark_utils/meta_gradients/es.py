"""Antithetic evolution strategies on the meta-objective.

With N antithetic pairs ``eps_i ~ N(0, I)`` in ``theta``'s unconstrained
coordinates (``log eta`` for gradient descent)::

    g = 1/(2 N sigma) sum_i (F(theta + sigma eps_i) - F(theta - sigma eps_i))
        eps_i

an unbiased estimate of the gradient of the smoothed objective
``F_sigma(theta) = E F(theta + sigma eps)``, not of ``F`` itself (the two
differ by ``O(sigma^2)``); its standard deviation is about ``|grad F|
sqrt(2/N)`` for a scalar ``theta``. Each ``F`` is the plain unrolled
meta-loss, evaluated without gradients (memory constant in T): where it
overflows the estimate is NaN, a failure. The reported loss is the mean of
the 2N evaluations. Cost: 2N unrolls, ``2 N T`` inner gradients per task.
"""

import torch

from ..meta_objectives import MetaGradient
from .base import Estimator
from .common import GaussianSearch


class ES(GaussianSearch, Estimator):
    name = "es"
    target = "unbiased"

    def estimate(self, problem, theta, generator):
        grad = torch.zeros(theta.shape, dtype=torch.float64,
                           device=theta.device)
        total = 0.0
        for _ in range(self.pairs):
            eps = self.noise(theta, generator)
            plus = problem.unrolled_value(self.point(theta, eps))
            minus = problem.unrolled_value(self.point(theta, -eps))
            grad = grad + (plus - minus) * eps
            total += plus + minus
        grad = grad / (2 * self.pairs * self.sigma)
        return MetaGradient(total / (2 * self.pairs), grad.to(theta),
                            problem.run_cost(2 * self.pairs)), generator
