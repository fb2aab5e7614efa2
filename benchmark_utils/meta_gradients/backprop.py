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


def unsupported(problem):
    return None


def estimate(problem, theta):
    tasks = problem.tasks
    theta_ = theta.detach().to(tasks.dtype).requires_grad_(True)
    w_T = unroll(tasks, problem.optimizer, theta_, problem.horizon)
    loss = problem.objective(tasks, w_T, problem.horizon)
    (grad,) = torch.autograd.grad(loss, theta_)
    return MetaGradient(float(loss.detach()), grad.to(theta.dtype),
                        problem.horizon * tasks.n_tasks)
