"""What the reference solvers share: a rule run with no meta-training.

A reference is what a user would pick instead of meta-learning: a
hand-designed or tuning-free inner optimizer (hypergradient descent, DoG,
Prodigy, D-Adaptation, Schedule-Free, Polyak's step, GD with 1/L or
2/(L + mu)). It learns nothing from the meta-train tasks, so it reports
``inner_gradient_evaluations = 0``, and the objective evaluates it on the
same meta-test tasks as the meta-learned solvers. A solver file declares its
``requirements`` and ``parameters`` and implements :meth:`make`; rules that
need what only some task families know (``L``, ``mu``, ``f*``) also
implement :meth:`unsupported`.

Written against the task-family contract
(:mod:`benchmark_utils.tasks.base`), so the references run on any task
family; a rule that needs a capability (``spectrum_bounds``,
``optimal_train_loss``) asks for it in :meth:`ReferenceSolver.unsupported`.
"""

import torch
from benchopt import BaseSolver
from benchopt.stopping_criterion import SingleRunCriterion

from .meta_train import SolverResult


class ReferenceSolver(BaseSolver):
    """A fixed inner optimizer, evaluated as is (no tuning, one run)."""

    sampling_strategy = "run_once"
    stopping_criterion = SingleRunCriterion()

    def check_parameters(self):
        """The solver's parameters, checked and normalised (a dict); raise
        ValueError naming a bad one. Called by :meth:`skip` on every task
        family, also those the rule does not support, so that a bad value
        in a sweep is an error, never a silent skip."""
        return {}

    def make(self, tasks, horizon):
        """Return ``(optimizer, theta)``: the inner optimizer and its fixed
        hyper-parameters as a float64 tensor (from
        :meth:`check_parameters`)."""
        raise NotImplementedError

    def unsupported(self, tasks):
        """The reason this rule cannot run on ``tasks``, or None."""
        return None

    def skip(self, tasks, horizon):
        self.check_parameters()
        reason = self.unsupported(tasks)
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        self.tasks, self.horizon = tasks, horizon

    def run(self, _):
        self.optimizer, theta = self.make(self.tasks, self.horizon)
        self.theta = torch.as_tensor(theta, dtype=torch.float64)

    def get_result(self):
        return dict(result=SolverResult(
            self.optimizer, self.theta, inner_gradient_evaluations=0,
            device=self.tasks.device,
            final=True,
        ))
