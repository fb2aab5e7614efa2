"""Tuning a scalar step size by grid search: the references a user would
otherwise pick (the paper's Section 4 grid search, tuned SGD and Adam).

:class:`GridSearchSolver` evaluates the meta-objective at every value of a
log-spaced grid of step sizes on the meta-train tasks (no meta-gradient)
and returns the best one. The meta-loss is exact where the ``stable``
estimator applies (gradient descent on linear tasks), else computed by the
plain unrolled loop; a value whose meta-loss is not finite (a diverging
step size) is never picked.
"""

import numpy as np
import torch
from benchopt import BaseSolver
from benchopt.stopping_criterion import SingleRunCriterion

from .meta_gradients import stable
from .meta_gradients.common import evaluate, run_cost
from .meta_objectives import MetaObjective, MetaProblem
from .meta_solver import (
    check_meta_objective, check_split_fits, check_val_fraction,
    split_unavailable,
)
from .meta_train import LearnedOptimizer
from .validation import check_int, check_positive


def meta_loss(problem, theta):
    """``(meta-loss, cost in inner gradient evaluations)`` at ``theta``,
    without its gradient."""
    if stable.unsupported(problem) is None:
        estimate = stable.estimate(problem, theta)
        return estimate.loss, estimate.inner_gradient_evaluations
    return evaluate(problem, theta), run_cost(problem)


def check_grid(grid_min, grid_max, grid_size):
    """The log-spaced grid, after checking its three parameters."""
    low = check_positive("grid_min", grid_min)
    high = check_positive("grid_max", grid_max)
    if high < low:
        raise ValueError(
            f"parameter 'grid_max' must be >= grid_min={low!r}, got "
            f"{high!r}"
        )
    return np.geomspace(low, high, check_int("grid_size", grid_size))


class GridSearchSolver(BaseSolver):
    """Base of the grid-search solvers.

    Subclasses define ``name``, ``parameters`` and :meth:`grid_setup`,
    which returns a dict with the inner ``optimizer``, the meta-objective's
    ``kind`` and ``split``, ``val_fraction`` and the ``grid``. The result
    reports the chosen step size and the cost of the search.
    """

    sampling_strategy = "run_once"
    stopping_criterion = SingleRunCriterion()

    def grid_setup(self):
        raise NotImplementedError

    def _checked(self):
        setup = self.grid_setup()
        check_meta_objective(setup["kind"], setup["split"],
                             setup["val_fraction"])
        check_val_fraction(setup["val_fraction"])     # whatever the split
        return setup

    def skip(self, tasks, horizon):
        setup = self._checked()
        reason = split_unavailable(tasks, setup["split"])
        if reason is None:
            check_split_fits(tasks, setup["split"], setup["val_fraction"])
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        setup = self._checked()
        self.grid = setup["grid"]
        if setup["split"] == "validation":
            tasks = tasks.split(setup["val_fraction"])
        self.problem = MetaProblem(
            tasks, setup["optimizer"],
            MetaObjective(setup["kind"], setup["split"]), horizon,
        )

    def run(self, _):
        results = [meta_loss(self.problem, torch.tensor(eta,
                                                        dtype=torch.float64))
                   for eta in self.grid]
        self.cost = sum(cost for _, cost in results)
        losses = np.array([loss for loss, _ in results])
        self.grid_losses = np.where(np.isfinite(losses), losses, np.inf)
        self.eta = float(self.grid[np.argmin(self.grid_losses)])

    def get_result(self):
        return dict(learned=LearnedOptimizer(
            self.problem.optimizer,
            torch.tensor(self.eta, dtype=torch.float64),
            inner_gradient_evaluations=self.cost,
        ))


class TunedOnValidation(GridSearchSolver):
    """Tuned step size of an inner optimizer (:meth:`make_optimizer`): the
    grid value with the lowest final validation loss on the meta-train
    tasks (parameters ``val_fraction``, ``grid_min``, ``grid_max``,
    ``grid_size``)."""

    def make_optimizer(self):
        raise NotImplementedError

    def grid_setup(self):
        return dict(
            optimizer=self.make_optimizer(), kind="naive",
            split="validation", val_fraction=self.val_fraction,
            grid=check_grid(self.grid_min, self.grid_max, self.grid_size),
        )
