"""Stable: the exact meta-gradient of a scalar step size, overflow-free.

For gradient descent on tasks with an exact closed form (linear tasks:
:mod:`benchmark_utils.tasks.gd_closed_form`), ``w_T`` and ``dw_T/deta``
are known in log scale for any T, and the meta-objective's derivative
``dF/deta`` follows by the chain rule in log space
(``tasks.exact_meta_objective``); ``dF/dtheta = dF/deta * deta/dtheta``
through the optimizer's own parametrisation (``theta = log eta``). Exact in
float64 for every horizon and step size (including eta > 2/L), with a cost
and memory that do not grow with T; the spectrum of each task's training
loss is computed once per task batch.
"""

import torch

from ..meta_objectives import MetaGradient
from .base import Estimator


class Stable(Estimator):
    name = "stable"

    def unsupported(self, problem):
        if not problem.optimizer.is_gradient_descent:
            return ("the stable meta-gradient needs gradient descent as inner "
                    "optimizer (a scalar step size)")
        if not problem.tasks.has_exact_gd:
            return ("the stable meta-gradient needs tasks whose full-batch "
                    "gradient descent has an exact closed form (quadratic "
                    "losses; a mini-batch inner loop is stochastic)")
        return None

    def estimate(self, problem, theta, state):
        cost = problem.tasks.exact_gd_cost      # before the spectrum is cached
        theta_ = theta.detach().double().requires_grad_(True)
        eta = problem.optimizer.gd_step_size(theta_)
        loss, slope = problem.tasks.exact_meta_objective(
            problem.objective, float(eta.detach()), problem.horizon)
        (grad,) = torch.autograd.grad(eta, theta_, grad_outputs=slope)
        return MetaGradient(float(loss), grad.reshape(theta.shape).to(theta),
                            cost), state
