"""Persistent evolution strategies over truncations (Vicol et al. 2021).

The inner run of T steps is cut into S truncations of K steps (a
:class:`~benchmark_utils.unroll.PersistentUnroll` per particle). Each
antithetic pair i draws a fresh ``eps_{i,s} ~ N(0, I)`` per truncation s,
runs its two particles with ``theta +- sigma eps_{i,s}`` (in ``theta``'s
unconstrained coordinates, as :mod:`.es`), and keeps the accumulated
perturbation ``xi_{i,s} = sum_{r<=s} eps_{i,r}``. With the truncation losses
``L_s = l(w_{end of s}) - l(w_{start of s})`` (they telescope:
``sum_s L_s = F(theta) - l(w_0)``, and ``l(w_0)`` does not depend on
theta)::

    g_u = 1/(2 N sigma) sum_i sum_s (L_s(+) - L_s(-)) xi_{i,s}

is PES's estimate summed over the run: unbiased for the gradient of the
full unroll's smoothed objective (each truncation's perturbation is an
independent coordinate, and ``L_s`` depends on perturbations up to s only),
where truncated backprop is not. One estimate runs every truncation of one
inner run with ``theta`` fixed, so ``g`` targets ``dF/dtheta`` of the final
meta-loss; memory is constant, cost ``2 N T`` inner gradients per task.
(Online PES, one truncation per meta-step with ``theta`` updated in between,
estimates the sum of per-truncation losses; the benchmark's meta-objectives
depend on ``w_T`` only, so the whole run is one estimate here.)
Options: ``truncation`` K (default ``min(10, T)``), ``sigma``, ``pairs``,
``seed``.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import PersistentUnroll
from .base import Estimator
from .common import GaussianSearch, TruncationWindow


class PES(TruncationWindow, GaussianSearch, Estimator):
    name = "pes"
    target = "unbiased"
    options = {**GaussianSearch.options, **TruncationWindow.options}

    def _pair(self, problem, theta, K, generator):
        """One antithetic pair over a whole run: (sum_s dL_s xi_s, F+ + F-).
        """
        runs = [PersistentUnroll(problem.tasks, problem.optimizer,
                                 problem.horizon) for _ in range(2)]
        tasks = runs[0].tasks        # both particles see the same tasks
        with torch.no_grad():
            start = float(problem.loss_at(tasks.w0, tasks))
            before = [start, start]
            xi = torch.zeros(theta.shape, dtype=torch.float64,
                             device=theta.device)
            total = torch.zeros_like(xi)
            while not runs[0].done:
                eps = self.noise(theta, generator)
                xi = xi + eps
                after = []
                for run, sign in zip(runs, (1.0, -1.0)):
                    w = run.advance(self.point(theta, sign * eps), K)
                    after.append(float(problem.loss_at(w, tasks)))
                change = (after[0] - before[0]) - (after[1] - before[1])
                total = total + change * xi
                before = after
        return total, after[0] + after[1]

    def estimate(self, problem, theta, generator):
        K = self.window(problem)
        grad = torch.zeros(theta.shape, dtype=torch.float64,
                           device=theta.device)
        loss = 0.0
        for _ in range(self.pairs):
            g, f = self._pair(problem, theta, K, generator)
            grad, loss = grad + g, loss + f
        grad = grad / (2 * self.pairs * self.sigma)
        return MetaGradient(loss / (2 * self.pairs), grad.to(theta),
                            problem.run_cost(2 * self.pairs)), generator
