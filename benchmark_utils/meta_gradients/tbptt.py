"""Truncated backpropagation through a persistent inner run (TBPTT).

The estimator neural learned optimizers are meta-trained with (Metz et al.
2019; paper Section 5): one inner run of ``horizon`` steps per task is cut
into segments of ``truncation`` steps
(:class:`~benchmark_utils.unroll.PersistentUnroll`, the estimator's state);
each meta-step runs the next segment and returns the gradient in theta of::

    F_seg(theta) = mean_j mean_{k in segment} l_j(w_k),

with ``l_j = f_j`` (naive) or ``log f_j`` (log objective) on the
meta-objective's split (training loss: train-by-train; held-out loss:
train-by-validation), by backprop through the segment only: the state at
the segment's start is a constant, so the estimate is biased toward
short-horizon behaviour (Wu et al. 2018) but costs ``truncation`` steps of
memory whatever the horizon (a truncation longer than the horizon is the
whole run). ``first_order=True`` (the paper's setting) treats each inner
gradient as an input, not as a function of theta (no second derivatives);
it is cheaper but, for the normalised updates of a learned optimizer, can
point uphill (measured here on digits MLPs: cosine -0.66 with the exact
segment gradient), so the default differentiates through the inner
gradients too. A run restarts (new initialisation and mini-batch order
where the tasks support it) once it reaches the horizon, or at once when
its parameters stop being finite.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import PersistentUnroll
from ..validation import check_int
from .base import Estimator, Option
from .common import segment_loss


def check_bool(name, value):
    if not isinstance(value, bool):
        raise ValueError(f"parameter {name!r} must be True or False, got "
                         f"{value!r}")
    return value


class TBPTT(Estimator):
    name = "tbptt"
    target = "biased"
    options = {
        "truncation": Option(20, check_int, "segment length"),
        "first_order": Option(False, check_bool,
                              "do not differentiate the inner gradients"),
    }

    def init_state(self, problem, theta):
        return PersistentUnroll(problem.tasks, problem.optimizer,
                                problem.horizon)

    def estimate(self, problem, theta, run):
        theta_ = theta.detach().requires_grad_(True)
        length = min(self.truncation, problem.horizon)
        seg = run.segment(theta_, length, segment_loss(problem.objective),
                          first_order=self.first_order)
        loss = seg.mean()
        if torch.isfinite(loss):
            (grad,) = torch.autograd.grad(loss, theta_)
        else:
            grad = torch.full_like(theta_, float("nan"))
        cost = length * problem.tasks.n_tasks
        return MetaGradient(float(loss.detach()), grad, cost), run
