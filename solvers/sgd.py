from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tuning import TunedOnValidation


class Solver(TunedOnValidation):
    """Tuned SGD: the step size of (mini-batch) gradient descent that gives
    the lowest final validation loss on the meta-train tasks (each task's
    last ``val_fraction`` of samples held out), from a log-spaced grid.

    The paper's tuned-SGD baseline (Section 5). Skipped on families without
    samples to hold out.
    """

    name = "sgd"
    parameters = {
        "val_fraction": [0.5],
        "grid_min": [1e-4],
        "grid_max": [10.0],
        "grid_size": [11],
    }

    def make_optimizer(self):
        return GradientDescent()
