from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers import SGDMomentum


class Solver(LearnedOptimizerSolver):
    """Meta-learn the step size and momentum of SGD with momentum
    (learned_optimization's ``LearnableSGDM``), ``theta = (log eta, logit
    beta)``, starting from ``(eta0, momentum)``, with the recipe every
    learned optimizer shares (see :func:`~benchmark_utils.meta_solver.
    learned_optimizer_parameters`). One override: ``meta_lr`` 1.0, since
    theta holds two log-scale hyper-parameters that must move by several
    units from their start within about 20 meta-steps, where a network's
    weights move by 1e-2. Chosen on meta-validation tasks (mean over 3
    seeds of the selected theta's meta-validation loss, meta-lr 0.05 / 0.2
    / 0.5 / 1.0): mlp 0.754 / 0.749 / 0.725 / 0.623, least squares 0.868 /
    - / 0.866 / 0.907; at 2.0 no meta-step beat the start on mlp.
    """

    name = "learnable-sgdm"
    parameters = learned_optimizer_parameters(
        eta0=[0.01], momentum=[0.9], meta_lr=[1.0])

    def make_optimizer(self):
        return SGDMomentum(self.eta0, self.momentum)
