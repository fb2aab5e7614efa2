from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers import SGDMomentum


class Solver(LearnedOptimizerSolver):
    """Meta-learn the step size and momentum of SGD with momentum
    (learned_optimization's ``LearnableSGDM``), ``theta = (log eta, logit
    beta)``, starting from ``(eta0, momentum)``, with the recipe every
    learned optimizer shares (see :func:`~benchmark_utils.meta_solver.
    learned_optimizer_parameters`). One override: ``meta_lr`` 0.05, since
    theta holds two log-scale hyper-parameters that must move by about 1
    from their start, where a network's weights move by 1e-2.
    """

    name = "learnable-sgdm"
    parameters = learned_optimizer_parameters(
        eta0=[0.01], momentum=[0.9], meta_lr=[0.05])

    def make_optimizer(self):
        return SGDMomentum(self.eta0, self.momentum)
