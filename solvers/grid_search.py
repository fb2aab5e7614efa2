import numpy as np
import torch
from benchopt import BaseSolver
from benchopt.stopping_criterion import SingleRunCriterion

from benchmark_utils.meta_gradients import stable
from benchmark_utils.meta_solver import (
    check_meta_objective, split_unavailable, step_size_problem,
)
from benchmark_utils.meta_train import LearnedOptimizer
from benchmark_utils.validation import check_int, check_positive


class Solver(BaseSolver):
    """Grid search: the best of log-spaced step sizes on the meta-train tasks.

    The paper's Section 4 method (default: 25 values from 1e-6 to 1). Each
    value's meta-loss is computed exactly, with no meta-gradient; the whole
    grid is evaluated before the result is reported. ``split="validation"``
    (train-by-validation) is skipped on families without samples.
    """

    name = "grid-search"
    sampling_strategy = "run_once"
    stopping_criterion = SingleRunCriterion()
    parameters = {
        "split": ["train", "validation"],
        "objective": ["naive"],
        "val_fraction": [0.5],
        "grid_min": [1e-6],
        "grid_max": [1.0],
        "grid_size": [25],
    }

    def _check(self):
        check_meta_objective(self.objective, self.split, self.val_fraction)
        low = check_positive("grid_min", self.grid_min)
        high = check_positive("grid_max", self.grid_max)
        if high < low:
            raise ValueError(
                f"parameter 'grid_max' must be >= grid_min={low!r}, got "
                f"{high!r}"
            )
        return np.geomspace(low, high, check_int("grid_size", self.grid_size))

    def skip(self, tasks, horizon):
        self._check()
        reason = split_unavailable(tasks, self.split)
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        self.grid = self._check()
        self.problem = step_size_problem(
            tasks, horizon, self.objective, self.split, self.val_fraction
        )

    def run(self, _):
        estimates = [stable.estimate(self.problem, torch.tensor(eta))
                     for eta in self.grid]
        self.cost = sum(e.inner_gradient_evaluations for e in estimates)
        losses = np.array([e.loss for e in estimates])
        self.grid_losses = np.where(np.isnan(losses), np.inf, losses)
        self.eta = float(self.grid[np.argmin(self.grid_losses)])

    def get_result(self):
        return dict(learned=LearnedOptimizer(
            self.problem.optimizer,
            torch.tensor(self.eta, dtype=torch.float64),
            inner_gradient_evaluations=self.cost,
        ))
