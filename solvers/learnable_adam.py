from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers import Adam


class Solver(LearnedOptimizerSolver):
    """Meta-learn all of Adam's hyper-parameters (learned_optimization's
    ``LearnableAdam``), ``theta = (log lr, logit beta1, logit beta2, log
    eps)``, starting from ``(eta0, beta1, beta2, eps)``, with the recipe
    every learned optimizer shares and ``learnable-sgdm``'s ``meta_lr``
    (0.05).
    """

    name = "learnable-adam"
    parameters = learned_optimizer_parameters(
        eta0=[1e-3], beta1=[0.9], beta2=[0.999], eps=[1e-8], meta_lr=[0.05])

    def make_optimizer(self):
        return Adam(self.eta0, self.beta1, self.beta2, self.eps)
