from benchmark_utils.meta_gradients import estimator_parameters
from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers import GradientDescent


class Solver(MetaLearningSolver):
    """Train-by-validation: GD trains on part of each task's samples, the
    meta-loss is the loss on the held-out ``val_fraction`` (paper Section 4).

    ``meta_objective`` is "log" (``mean (1/T) log f(w_T)``) or "naive"
    (``mean f(w_T)``). Skipped on task families without samples
    (quadratics). ``gradient`` and its options: any estimator of
    :mod:`benchmark_utils.meta_gradients`.
    """

    name = "train-by-validation"
    parameters = {
        "meta_objective": ["log", "naive"],
        "val_fraction": [0.5],
        "gradient": ["stable"],
        "eta0": [0.1],
        "meta_optimizer": ["brent"],
        "meta_lr": [None],
        **estimator_parameters(),
    }
    test_config = {"dataset": {"name": "least_squares"}}

    def make_optimizer(self):
        return GradientDescent(self.eta0)

    def meta_setup(self):
        return MetaSetup(self.meta_objective, "validation", self.gradient,
                         self.val_fraction, self.estimator_options())
