"""Truncated backpropagation through a persistent inner run (TBPTT).

The estimator neural learned optimizers are meta-trained with (Metz et al.
2019; paper Section 5). ``l_j = f_j`` (naive) or ``log f_j`` (log
objective) on the meta-objective's split (training loss: train-by-train;
held-out loss: train-by-validation). Two meta-losses (option
``meta_loss``):

- ``"average"`` (Metz et al.'s): one inner run of ``horizon`` steps per
  task is cut into segments of ``truncation`` steps
  (:class:`~benchmark_utils.unroll.PersistentUnroll`, the estimator's
  state); each meta-step runs the next segment and returns the gradient in
  theta of::

      F_seg(theta) = mean_j mean_{k in segment} l_j(w_k),

  by backprop through the segment only: the state at the segment's start
  is a constant, so the estimate is biased toward short-horizon behaviour
  (Wu et al. 2018) but costs ``truncation`` steps of memory whatever the
  horizon (a truncation longer than the horizon is the whole run).
  ``truncation`` None: 20.
- ``"final"``: each meta-step runs one whole inner run (a fresh one: new
  initialisation, mini-batch order and, for held-out tasks, partition)
  and returns the gradient of ``F(theta) = mean_j l_j(w_T)``, the loss the
  meta-test metrics report, by backprop through its last ``truncation``
  steps (the first ``T - truncation`` run without gradients, their end
  point a constant); a truncation of at least the horizon (None) is exact
  backprop through the whole run, unbiased for the expected final loss
  over initialisations and mini-batch orders, with memory linear in T.

``truncation_exp`` (None: every segment is ``truncation`` steps): the
paper's random unroll lengths (Metz et al. 2019: ``50 + Exp(100)``):
each segment is ``truncation + floor(X)`` steps, ``X`` exponential with
mean ``truncation_exp``, drawn from a generator seeded by ``seed`` and
the segment's place (the run's number and its first step), so that the
state stays the run and a seeded meta-training repeats. The run's length
stays the tasks' horizon (the paper's runs of ``10 + Exp(30)`` such
unrolls, thousands of steps, are beyond these tasks' horizons).

``first_order=True`` (the paper's setting) treats each inner gradient as
an input, not as a function of theta (no second derivatives); it is
cheaper but, for the normalised updates of a learned optimizer, can point
uphill (measured here on digits MLPs: cosine -0.66 with the exact segment
gradient), so the default differentiates through the inner gradients too.
A run restarts (new initialisation and mini-batch order where the tasks
support it) once it reaches the horizon, or at once when its parameters
stop being finite. Cost: the inner gradients of the steps run, summed over
tasks.
"""

import math

import torch

from ..meta_objectives import MetaGradient
from ..unroll import PersistentUnroll
from ..tasks import make_generator
from ..validation import (
    check_bool, check_choice, check_int, check_optional_positive,
)
from .base import Estimator, Option
from .common import check_seed, segment_loss


META_LOSSES = ("average", "final")
DEFAULT_TRUNCATION = 20


class TBPTT(Estimator):
    name = "tbptt"
    target = "biased"
    stochastic = True           # with ``truncation_exp`` only
    options = {
        "truncation": Option(None, check_int, "segment length (None: "
                             "20 for 'average', the horizon for 'final')"),
        "first_order": Option(False, check_bool,
                              "do not differentiate the inner gradients"),
        "meta_loss": Option("average", lambda name, value: check_choice(
            name, value, META_LOSSES), "'average' over segments or "
            "'final' loss of whole runs"),
        "truncation_exp": Option(None, check_optional_positive,
                                 "mean of the exponential added to each "
                                 "segment's truncation (None: none)"),
        "seed": Option(0, check_seed, "seed of the random truncations"),
    }

    def init_state(self, problem, theta):
        return PersistentUnroll(problem.tasks, problem.optimizer,
                                problem.horizon)

    def window(self, run=None):
        """The truncation (None: ``DEFAULT_TRUNCATION`` for "average", the
        whole run for "final"), plus, with ``truncation_exp``, the random
        part of the segment that ``run`` starts next."""
        if self.truncation is not None:
            base = self.truncation
        else:
            base = (DEFAULT_TRUNCATION if self.meta_loss == "average"
                    else math.inf)
        if self.truncation_exp is None or run is None:
            return base
        # seeded by the segment's place: the same segment, the same length
        runs, step = (run.runs + 1, 0) if run.done else (run.runs, run.step)
        gen = make_generator((self.seed * 1_000_003 + runs) * 1_000_003
                             + step)
        x = torch.empty(1, dtype=torch.float64).exponential_(
            1.0 / self.truncation_exp, generator=gen)
        return base + math.floor(float(x))

    def estimate(self, problem, theta, run):
        theta_ = theta.detach().requires_grad_(True)
        length = min(self.window(run), problem.horizon)
        step_loss = segment_loss(problem.objective)
        if self.meta_loss == "average":
            steps = length if run.done else min(length,
                                                problem.horizon - run.step)
            loss = run.segment(theta_, length, step_loss,
                               first_order=self.first_order).mean()
        else:
            if run.step > 0:            # a fresh run per estimate
                run.restart()
            with torch.no_grad():
                run.advance(theta_.detach(), problem.horizon - length)
            loss = run.segment(theta_, length, step_loss,
                               first_order=self.first_order,
                               last_only=True).mean()
            steps = problem.horizon
        if torch.isfinite(loss):
            (grad,) = torch.autograd.grad(loss, theta_)
        else:
            grad = torch.full_like(theta_, float("nan"))
        cost = steps * problem.tasks.n_tasks
        return MetaGradient(float(loss.detach()), grad, cost), run
