from benchmark_utils.meta_gradients import estimator_parameters
from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers import GradientDescent


class Solver(MetaLearningSolver):
    """Meta-learn eta on the log objective ``mean (1/T) log f(w_T)``.

    ``gradient="stable"``: the exact, overflow-free meta-gradient;
    ``gradient="backprop"``: autograd through the unrolled loop, which the
    paper shows overflows at long horizons. Any estimator of
    :mod:`benchmark_utils.meta_gradients` (``truncated``, ``forward``,
    ``es``, ``pes``, ``greedy``, ``tbptt``), with its options (None = the
    estimator's default; ``configs/estimators.yml`` sweeps them).
    """

    name = "log-unrolled"
    parameters = {
        "gradient": ["stable", "backprop"],
        "eta0": [0.1],
        "meta_optimizer": ["brent"],
        "meta_lr": [None],
        **estimator_parameters(),
    }

    def make_optimizer(self):
        return GradientDescent(self.eta0)

    def meta_setup(self):
        return MetaSetup("log", "train", self.gradient,
                         options=self.estimator_options())
