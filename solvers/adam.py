from benchmark_utils.optimizers import Adam
from benchmark_utils.tuning import TunedOnValidation


class Solver(TunedOnValidation):
    """Tuned Adam: the step size of Adam (default betas) that gives the
    lowest final validation loss on the meta-train tasks (each task's last
    ``val_fraction`` of samples held out), from a log-spaced grid.

    Skipped on families without samples to hold out.
    """

    name = "adam"
    parameters = {
        "val_fraction": [0.5],
        "grid_min": [1e-5],
        "grid_max": [1.0],
        "grid_size": [11],
    }

    def make_optimizer(self):
        return Adam()
