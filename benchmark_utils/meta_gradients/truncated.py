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
from .base import Estimator
from .common import TruncationWindow


class Truncated(TruncationWindow, Estimator):
    name = "truncated"
    target = "biased"

    def estimate(self, problem, theta, state):
        tasks, opt, T = problem.tasks, problem.optimizer, problem.horizon
        K = self.window(problem)
        with torch.no_grad():
            w, inner = run_steps(tasks, opt, theta.detach(), tasks.w0,
                                 opt.init(tasks.w0), 0, T - K)
        theta_ = theta.detach().requires_grad_(True)
        w_T, inner = run_steps(tasks, opt, theta_, w, inner, T - K, T)
        loss = problem.loss_at(opt.finalize(w_T, inner))
        (grad,) = torch.autograd.grad(loss, theta_)
        return MetaGradient(float(loss.detach()), grad,
                            problem.run_cost()), state
