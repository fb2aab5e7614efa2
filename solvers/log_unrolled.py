from benchmark_utils.meta_solver import MetaLearningSolver


class Solver(MetaLearningSolver):
    """Meta-learn eta on the log objective ``mean (1/T) log f(w_T)``.

    ``gradient="stable"``: the exact, overflow-free meta-gradient;
    ``gradient="backprop"``: autograd through the unrolled loop, which the
    paper shows overflows at long horizons. Also ``truncated``, ``forward``,
    ``es``, ``pes``, ``hypergradient`` (see
    :mod:`benchmark_utils.meta_gradients`), with their options
    ``truncation``, ``sigma``, ``pairs`` (None = the estimator's default;
    ``configs/estimators.yml`` sweeps them).
    """

    name = "log-unrolled"
    parameters = {
        "gradient": ["stable", "backprop"],
        "eta0": [0.1],
        "meta_optimizer": ["brent"],
        "meta_lr": [None],
        "truncation": [None],
        "sigma": [None],
        "pairs": [None],
    }

    def meta_setup(self):
        return dict(kind="log", split="train", gradient=self.gradient)
