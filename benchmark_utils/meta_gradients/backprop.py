"""Backprop: autograd through the plain unrolled inner loop.

Works for any differentiable inner optimizer and task, in the tasks' dtype,
with memory linear in the horizon. On the log objective it computes
``f'(w_T) / f(w_T)`` from two factors that are each exponentially large or
small in T, so it returns inf or NaN past a horizon that depends on the dtype
(paper Section 3): the meta-training loop counts those failures.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import unroll
from .base import Estimator


class Backprop(Estimator):
    name = "backprop"

    def estimate(self, problem, theta, state):
        theta_ = theta.detach().requires_grad_(True)
        w_T = unroll(problem.tasks, problem.optimizer, theta_,
                     problem.horizon)
        loss = problem.loss_at(w_T)
        (grad,) = torch.autograd.grad(loss, theta_)
        return MetaGradient(float(loss.detach()), grad,
                            problem.run_cost()), state
