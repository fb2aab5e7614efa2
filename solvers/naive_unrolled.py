from benchmark_utils.meta_solver import MetaLearningSolver


class Solver(MetaLearningSolver):
    """Meta-learn eta on the naive objective ``mean f(w_T)`` by backprop.

    The paper's "naive" meta-objective: its meta-gradient explodes for
    eta > 2/L and vanishes for eta < 2/L, exponentially in T.
    """

    name = "naive-unrolled"
    parameters = {
        "eta0": [0.1],
        "meta_optimizer": ["brent"],
        "meta_lr": [None],
    }

    def meta_setup(self):
        return dict(kind="naive", split="train", gradient="backprop")
