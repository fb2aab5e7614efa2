"""Online persistent evolution strategies (Vicol et al. 2021), the way
learned optimizers are meta-trained with ES (learned_optimization's
``TruncatedPES``): theta changes between truncations.

Each of ``pairs`` antithetic pairs keeps two persistent inner runs
(:class:`~benchmark_utils.unroll.PersistentUnroll`, the estimator's state,
as for ``tbptt``) and the perturbation ``xi`` accumulated since its runs
started. A meta-step draws ``eps ~ N(0, I)`` per pair, advances the two
runs ``truncation`` steps with ``theta +- sigma eps``, adds ``eps`` to
``xi``, and returns::

    g = 1/(2 N sigma) sum_i (L_i(+) - L_i(-)) xi_i,

with ``L`` the truncation's loss, the same as ``tbptt``'s segment loss
(the mean over the truncation's steps of the meta-objective's split loss,
or its log). Accumulating ``xi`` makes ``g`` unbiased, across truncations,
for the gradient of the smoothed sum of truncation losses along the
persistent runs, where ``tbptt`` ignores how theta moved the runs' state
(its short-horizon bias); within one truncation both estimate the same
segment gradient (``tbptt`` exactly, this in expectation). A pair's
``xi`` resets when its runs restart. No backprop: memory is that of the
runs, cost ``2 N K`` inner gradients per task and meta-step. Defaults:
truncation 10, sigma 0.01 (learned_optimization's), 4 pairs.

Unlike :mod:`.pes`, whose one estimate runs a whole inner run at a fixed
theta and targets the final meta-loss ``F(w_T)``, this estimator advances
its runs by one truncation per meta-step.
"""

import torch

from ..meta_objectives import MetaGradient
from ..unroll import PersistentUnroll
from ..validation import check_int, check_positive
from .base import Estimator, Option
from .common import GaussianSearch, segment_loss


class OnlinePES(GaussianSearch, Estimator):
    name = "online-pes"
    target = "biased"          # the persistent runs' truncation losses
    options = {
        **GaussianSearch.options,
        "truncation": Option(10, check_int, "truncation length K"),
        "sigma": Option(0.01, check_positive, "perturbation scale"),
        "pairs": Option(4, check_int, "antithetic pairs"),
    }

    def init_state(self, problem, theta):
        runs = [[PersistentUnroll(problem.tasks, problem.optimizer,
                                  problem.horizon) for _ in range(2)]
                for _ in range(self.pairs)]
        xi = [torch.zeros(theta.shape, dtype=torch.float64,
                          device=theta.device) for _ in range(self.pairs)]
        return dict(runs=runs, xi=xi,
                    generator=GaussianSearch.init_state(self, problem, theta))

    def estimate(self, problem, theta, state):
        length = min(self.truncation, problem.horizon)
        loss_of = segment_loss(problem.objective)
        grad = torch.zeros(theta.shape, dtype=torch.float64,
                           device=theta.device)
        total = 0.0
        with torch.no_grad():
            for i, (plus, minus) in enumerate(state["runs"]):
                if plus.done or minus.done:    # both restart together
                    plus.step = minus.step = plus.horizon
                    state["xi"][i] = torch.zeros_like(state["xi"][i])
                eps = self.noise(theta, state["generator"])
                state["xi"][i] = state["xi"][i] + eps
                losses = []
                for run, sign in ((plus, 1.0), (minus, -1.0)):
                    losses.append(float(run.segment(
                        self.point(theta, sign * eps), length,
                        loss_of).mean()))
                grad = grad + (losses[0] - losses[1]) * state["xi"][i]
                total += losses[0] + losses[1]
        grad = grad / (2 * self.pairs * self.sigma)
        cost = 2 * self.pairs * length * problem.tasks.n_tasks
        return MetaGradient(total / (2 * self.pairs), grad.to(theta),
                            cost), state
