"""Truncated backprop: autograd through the last K inner steps only.

The first ``T - K`` steps run without gradients; their end point ``w_{T-K}``
(and the optimizer state) is a constant, so the estimate is::

    g_K = d/dtheta F(w_T),  w_T = Phi_theta^K(w_{T-K}),  w_{T-K} fixed,

which drops every path through the first ``T - K`` steps: biased unless
``K = T`` (then it is full backprop, bit for bit). Memory grows like K,
not T; cost ``T`` inner gradients per task. Short truncations favour the
step sizes that are best over short horizons (Wu et al. 2018).
Option ``truncation`` = K (default ``min(10, T)``).
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import run_steps
from .common import (
    TruncationWindow, inner_theta, meta_loss, run_cost,
)


class Estimator(TruncationWindow):
    OPTIONS = ("truncation",)

    def __init__(self, truncation=None):
        self._set_truncation(truncation)

    def estimate(self, problem, theta):
        tasks, opt, T = problem.tasks, problem.optimizer, problem.horizon
        K = self.window(problem)
        with torch.no_grad():
            w, state = run_steps(tasks, opt, inner_theta(theta, tasks),
                                 tasks.w0, opt.init(tasks.w0), 0, T - K)
        theta_ = inner_theta(theta, tasks).requires_grad_(True)
        w_T, _ = run_steps(tasks, opt, theta_, w, state, T - K, T)
        loss = meta_loss(problem, w_T)
        (grad,) = torch.autograd.grad(loss, theta_)
        return MetaGradient(float(loss.detach()), grad.to(theta.dtype),
                            run_cost(problem))
