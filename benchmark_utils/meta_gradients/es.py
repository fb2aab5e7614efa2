"""Antithetic evolution strategies on the meta-objective.

With ``u`` the search coordinates of ``theta`` (``log eta`` for gradient
descent, ``theta`` itself otherwise: see
:class:`~benchmark_utils.meta_gradients.common.GaussianSearch`) and N
antithetic pairs ``eps_i ~ N(0, I)``::

    g_u = 1/(2 N sigma) sum_i (F(u + sigma eps_i) - F(u - sigma eps_i)) eps_i

an unbiased estimate of the gradient of the smoothed objective
``F_sigma(u) = E F(u + sigma eps)``, not of ``F`` itself (the two differ by
``O(sigma^2)``); its standard deviation is about ``|grad F| sqrt(2/N)`` for a
scalar ``theta``. Each ``F`` is the plain unrolled meta-loss, evaluated
without gradients (memory constant in T): where it overflows the estimate
is NaN, a failure. The reported loss is the mean of the 2N evaluations.
Cost: 2N unrolls, ``2 N T`` inner gradients per task.
"""

import torch

from ..meta_objectives import MetaGradient
from .common import GaussianSearch, evaluate, run_cost


class Estimator(GaussianSearch):

    def estimate(self, problem, theta):
        grad_u = torch.zeros(theta.shape, dtype=torch.float64)
        total = 0.0
        for _ in range(self.pairs):
            eps = self.noise(theta)
            plus = evaluate(problem, self.point(problem, theta, eps))
            minus = evaluate(problem, self.point(problem, theta, -eps))
            grad_u = grad_u + (plus - minus) * eps
            total += plus + minus
        grad_u = grad_u / (2 * self.pairs * self.sigma)
        return MetaGradient(total / (2 * self.pairs),
                            self.to_theta_grad(problem, theta, grad_u),
                            run_cost(problem, 2 * self.pairs))
