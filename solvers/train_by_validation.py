from benchmark_utils.meta_solver import MetaLearningSolver


class Solver(MetaLearningSolver):
    """Train-by-validation: GD trains on part of each task's samples, the
    meta-loss is the loss on the held-out ``val_fraction`` (paper Section 4).

    Skipped on task families without samples (quadratics). ``gradient``
    and its options ``truncation``, ``sigma``, ``pairs``: any estimator of
    :mod:`benchmark_utils.meta_gradients`.
    """

    name = "train-by-validation"
    parameters = {
        "objective": ["log", "naive"],
        "val_fraction": [0.5],
        "gradient": ["stable"],
        "eta0": [0.1],
        "meta_optimizer": ["brent"],
        "meta_lr": [None],
        "truncation": [None],
        "sigma": [None],
        "pairs": [None],
    }
    test_config = {"dataset": {"name": "least_squares"}}

    def meta_setup(self):
        return dict(kind=self.objective, split="validation",
                    gradient=self.gradient, val_fraction=self.val_fraction)
