"""Greedy: the one-step greedy estimate (Baydin et al. 2018).

At every inner step the start point ``w_k`` (and optimizer state) is held
fixed and only the step itself is differentiated::

    h = sum_{k<T} d/dtheta l(update(w_k, g_k, s_k, theta)),  w_k fixed,

with ``l`` the meta-loss of an iterate (``l(w) = f(w)`` or ``(1/T) log
f(w)`` on the meta-objective's split). For gradient descent on the naive
training objective each term is ``-<grad f(w_{k+1}), grad f(w_k)>`` (times
eta, in ``theta = log eta``), the hypergradient that hypergradient descent
(the ``hypergradient`` solver) follows online; summed over one run it is
what its step-size updates add up to. It ignores how a step changes all
later ones: greedy, biased toward step sizes that are best one step ahead
(at T = 1 it is exact). Memory constant in T; cost T inner gradients per
task (plus T small backward passes, not counted, as for backprop).
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import PersistentUnroll
from .base import Estimator


class Greedy(Estimator):
    name = "greedy"
    target = "biased"

    def estimate(self, problem, theta, state):
        theta_ = theta.detach().requires_grad_(True)
        run = PersistentUnroll(problem.tasks, problem.optimizer,
                               problem.horizon)
        total = torch.zeros_like(theta_)
        loss = None
        while not run.done:
            loss = problem.loss_at(run.advance(theta_, 1), run.tasks)
            (grad,) = torch.autograd.grad(loss, theta_)
            total = total + grad
        return MetaGradient(float(loss.detach()), total,
                            problem.run_cost()), state
