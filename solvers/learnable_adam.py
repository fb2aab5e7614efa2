from benchmark_utils.meta_gradients import estimator_parameters
from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers import Adam


class Solver(MetaLearningSolver):
    """Meta-learn all of Adam's hyper-parameters (learned_optimization's
    ``LearnableAdam``), ``theta = (log lr, logit beta1, logit beta2, log
    eps)``, starting from ``(eta0, beta1, beta2, eps)``.

    Meta-objective, split, estimator and meta-optimizer as
    ``learnable-sgdm``.
    """

    name = "learnable-adam"
    parameters = {
        "meta_objective": ["log"],
        "split": ["train"],
        "val_fraction": [0.5],
        "gradient": ["backprop"],
        "eta0": [1e-3],
        "beta1": [0.9],
        "beta2": [0.999],
        "eps": [1e-8],
        "meta_optimizer": ["adam"],
        "meta_lr": [0.05],
        "max_meta_steps": [50],
        **estimator_parameters(),
    }

    def make_optimizer(self):
        return Adam(self.eta0, self.beta1, self.beta2, self.eps)

    def meta_setup(self):
        return MetaSetup(self.meta_objective, self.split, self.gradient,
                         self.val_fraction, self.estimator_options())
