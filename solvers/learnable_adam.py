from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers import Adam


class Solver(LearnedOptimizerSolver):
    """Meta-learn all of Adam's hyper-parameters (learned_optimization's
    ``LearnableAdam``), ``theta = (log lr, logit beta1, logit beta2, log
    eps)``, starting from ``(eta0, beta1, beta2, eps)``, with the recipe
    every learned optimizer shares and one override, ``meta_lr`` 0.2 (as
    for ``learnable-sgdm``, a few log-scale hyper-parameters). Chosen on
    meta-validation tasks (mean over 3 seeds of the selected theta's
    meta-validation loss, meta-lr 0.05 / 0.2 / 0.5 / 1.0): mlp 0.617 /
    0.548 / 0.554 / 0.534, least squares 0.892 / 0.891 / 0.891 / 0.885,
    conv 2.294 / 1.745 / 1.779 / 1.825 (the lowest sum).
    """

    name = "learnable-adam"
    parameters = learned_optimizer_parameters(
        eta0=[1e-3], beta1=[0.9], beta2=[0.999], eps=[1e-8], meta_lr=[0.2])

    def make_optimizer(self):
        return Adam(self.eta0, self.beta1, self.beta2, self.eps)
