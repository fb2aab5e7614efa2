import torch

from benchmark_utils.optimizers import HypergradientDescent
from benchmark_utils.reference_solver import ReferenceSolver
from benchmark_utils.validation import (
    check_choice, check_float, check_positive,
)

VARIANTS = ("additive", "multiplicative")


class Solver(ReferenceSolver):
    """Hypergradient descent (Baydin et al. 2018), no meta-training.

    The step size adapts online, per task, along the derivative of the loss
    in the previous step size: ``alpha_k = alpha_{k-1} + beta <g_k,
    g_{k-1}>`` (additive) or ``alpha_k = alpha_{k-1} (1 + beta cos(g_k,
    g_{k-1}))`` (multiplicative); ``eta0 = alpha_0``, ``hyper_lr = beta``
    (None: 1e-3 additive, 0.05 multiplicative).
    """

    name = "hypergradient"
    parameters = {
        "variant": list(VARIANTS),
        "eta0": [1e-3],
        "hyper_lr": [None],
    }

    def check_parameters(self):
        variant = check_choice("variant", self.variant, VARIANTS)
        beta = self.hyper_lr
        if beta is None:
            beta = 1e-3 if variant == "additive" else 0.05
        return dict(variant=variant, eta0=check_positive("eta0", self.eta0),
                    hyper_lr=check_float("hyper_lr", beta, low=0.0))

    def make(self, tasks, horizon):
        p = self.check_parameters()
        theta = torch.tensor([p["eta0"], p["hyper_lr"]])
        return HypergradientDescent(p["variant"]), theta
