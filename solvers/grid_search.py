from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tuning import GridSearchSolver, check_grid


class Solver(GridSearchSolver):
    """Grid search: the best of log-spaced GD step sizes on the meta-train
    tasks (the paper's Section 4 method; default 25 values from 1e-6 to 1).

    Each value's meta-loss is computed exactly on linear tasks, by the
    unrolled loop on others; the whole grid is evaluated before the result
    is reported. ``split="validation"`` (train-by-validation) is skipped on
    families without samples.
    """

    name = "grid-search"
    parameters = {
        "split": ["train", "validation"],
        "meta_objective": ["naive"],
        "val_fraction": [0.5],
        "grid_min": [1e-6],
        "grid_max": [1.0],
        "grid_size": [25],
    }

    def grid_setup(self):
        return dict(
            optimizer=GradientDescent(), kind=self.meta_objective,
            split=self.split, val_fraction=self.val_fraction,
            grid=check_grid(self.grid_min, self.grid_max, self.grid_size),
        )
