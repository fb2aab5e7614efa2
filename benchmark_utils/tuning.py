"""Tuning a step size by grid search: the references a user would
otherwise pick (the paper's Section 4 grid search, tuned SGD and Adam).

:class:`GridSearchSolver` evaluates the meta-objective at every value of a
log-spaced grid of step sizes on the meta-train tasks (no meta-gradient)
and returns the best one. The meta-loss is exact where the ``stable``
estimator applies (gradient descent on tasks with an exact closed form),
else computed by the plain unrolled loop; a value whose meta-loss is not
finite (a diverging step size) is never picked.
"""

import numpy as np
from benchopt import BaseSolver
from benchopt.stopping_criterion import SingleRunCriterion

from .meta_gradients import get_estimator
from .meta_solver import (
    check_hold_out, check_meta_objective, check_val_fraction,
    hold_out_unavailable, meta_problem,
)
from .meta_train import SolverResult
from .validation import check_int, check_positive


def grid_point_loss(problem, theta):
    """``(meta-loss, cost in inner gradient evaluations)`` at ``theta``,
    without its gradient: exact where the ``stable`` estimator applies."""
    exact = get_estimator("stable")
    if exact.unsupported(problem) is None:
        estimate, _ = exact.estimate(problem, theta, None)
        return estimate.loss, estimate.inner_gradient_evaluations
    return problem.unrolled_value(theta), problem.run_cost()


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
    which returns a dict with the learnable inner ``optimizer`` (whose
    ``theta_from(step_size=...)`` places a grid value), the
    meta-objective's ``kind`` and ``split``, ``val_fraction`` and the
    ``grid``. The result reports the chosen step size and the cost of the
    search.
    """

    sampling_strategy = "run_once"
    stopping_criterion = SingleRunCriterion()

    def grid_setup(self):
        raise NotImplementedError

    def check_parameters(self):
        setup = self.grid_setup()
        check_val_fraction(setup["val_fraction"])     # whatever the split
        check_meta_objective(setup["kind"], setup["split"],
                             setup["val_fraction"])
        return setup

    def skip(self, tasks, horizon):
        setup = self.check_parameters()
        reason = hold_out_unavailable(tasks, setup["split"],
                                      setup["val_fraction"])
        if reason is None:
            check_hold_out(tasks, setup["split"], setup["val_fraction"])
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        setup = self.check_parameters()
        self.grid = setup["grid"]
        self.problem = meta_problem(tasks, setup["optimizer"], setup["kind"],
                                    setup["split"], horizon,
                                    setup["val_fraction"])

    def run(self, _):
        optimizer = self.problem.optimizer
        results = [grid_point_loss(self.problem,
                                   optimizer.theta_from(step_size=eta))
                   for eta in self.grid]
        self.cost = sum(cost for _, cost in results)
        losses = np.array([loss for loss, _ in results])
        self.grid_losses = np.where(np.isfinite(losses), losses, np.inf)
        self.eta = float(self.grid[np.argmin(self.grid_losses)])

    def get_result(self):
        return dict(result=SolverResult(
            self.problem.optimizer,
            self.problem.optimizer.theta_from(step_size=self.eta),
            inner_gradient_evaluations=self.cost,
            validation_split=self.problem.objective.split == "validation",
            device=self.problem.tasks.device,
            final=True,
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
