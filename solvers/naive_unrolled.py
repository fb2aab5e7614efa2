from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers import GradientDescent


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

    def make_optimizer(self):
        return GradientDescent(self.eta0)

    def meta_setup(self):
        return MetaSetup("naive", "train", "backprop")
