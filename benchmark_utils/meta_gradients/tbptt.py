"""Truncated backpropagation through a persistent inner run (TBPTT).

The estimator neural learned optimizers are meta-trained with (Metz et al.
2019; paper Section 5): one inner run of ``horizon`` steps per task is cut
into segments of ``truncation`` steps
(:class:`~benchmark_utils.unroll.PersistentUnroll`); each meta-step runs
the next segment and returns the gradient in theta of::

    F_seg(theta) = mean_j mean_{k in segment} l_j(w_k),

with ``l_j = f_j`` (naive) or ``log f_j`` (log objective) on the
meta-objective's split (training loss: train-by-train; held-out loss:
train-by-validation), by backprop through the segment only: the state at
the segment's start is a constant, so the estimate is biased toward
short-horizon behaviour (Wu et al. 2018) but costs ``truncation`` steps of
memory whatever the horizon. ``first_order=True`` (the paper's setting)
treats each inner gradient as an input, not as a function of theta (no
second derivatives); it is cheaper but, for the normalised updates of a
learned optimizer, can point uphill (measured here on digits MLPs: cosine
-0.66 with the exact segment gradient), so the default differentiates
through the inner gradients too. A run restarts (new initialisation and
mini-batch order where the tasks support it) once it reaches the horizon,
or at once when its parameters stop being finite.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import PersistentUnroll
from ..validation import check_int


class TBPTT:
    """Stateful estimator: ``estimate`` advances its inner run."""

    def __init__(self, truncation=20, first_order=False):
        self.truncation = check_int("truncation", truncation)
        self.first_order = bool(first_order)
        self.run = None

    def unsupported(self, problem):
        return None

    def estimate(self, problem, theta):
        if self.run is None or self.run.base is not problem.tasks:
            self.run = PersistentUnroll(problem.tasks, problem.optimizer,
                                        problem.horizon)
        objective = problem.objective

        def step_loss(tasks, w):
            loss = tasks.loss(objective.split)(w)
            return loss if objective.kind == "naive" else torch.log(loss)

        theta_ = theta.detach().to(problem.tasks.dtype).requires_grad_(True)
        length = min(self.truncation, problem.horizon)
        seg = self.run.segment(theta_, length, step_loss,
                               first_order=self.first_order)
        loss = seg.mean()
        if torch.isfinite(loss):
            (grad,) = torch.autograd.grad(loss, theta_)
        else:
            grad = torch.full_like(theta_, float("nan"))
        cost = length * problem.tasks.n_tasks
        return MetaGradient(float(loss.detach()), grad.to(theta.dtype), cost)
