from benchmark_utils.meta_gradients import estimator_parameters
from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers import SGDMomentum


class Solver(MetaLearningSolver):
    """Meta-learn the step size and momentum of SGD with momentum
    (learned_optimization's ``LearnableSGDM``), ``theta = (log eta, logit
    beta)``, starting from ``(eta0, momentum)``.

    Meta-objective ``meta_objective`` ("log": ``mean (1/T) log f(w_T)``,
    "naive": ``mean f(w_T)``) on the training split (``split="train"``) or
    on each task's held-out ``val_fraction`` (``split="validation"``);
    meta-gradient ``gradient`` (any estimator; default backprop through the
    unroll) with Adam on ``theta`` (norm-clipped), for ``max_meta_steps``
    meta-steps.
    """

    name = "learnable-sgdm"
    parameters = {
        "meta_objective": ["log"],
        "split": ["train"],
        "val_fraction": [0.5],
        "gradient": ["backprop"],
        "eta0": [0.01],
        "momentum": [0.9],
        "meta_optimizer": ["adam"],
        "meta_lr": [0.05],
        "max_meta_steps": [50],
        **estimator_parameters(),
    }

    def make_optimizer(self):
        return SGDMomentum(self.eta0, self.momentum)

    def meta_setup(self):
        return MetaSetup(self.meta_objective, self.split, self.gradient,
                         self.val_fraction, self.estimator_options())
