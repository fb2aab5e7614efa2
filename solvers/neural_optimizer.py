from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers import NeuralOptimizer


class Solver(LearnedOptimizerSolver):
    """A coordinate-wise neural learned optimizer (Metz et al. 2019),
    sign-equivariant, its step-number features stopped at the meta-training
    horizon (:mod:`benchmark_utils.optimizers.neural`), ``hidden`` units.

    Meta-trained with the recipe every learned optimizer shares
    (:func:`~benchmark_utils.meta_solver.learned_optimizer_parameters`),
    train-by-validation (``split="validation"``: on the mlp family, each
    meta-train task's network trains on all of its samples and the
    meta-loss is the loss on its own held-out images, the paper's Section 5
    "n + n") and, since the paper's Section 5 claims need it, also
    train-by-train (``split="train"``: the meta-loss is the training loss).
    See docs/neural_meta_training.md for the measurements behind the
    recipe.

    ``init``: ``"adam"`` (the default: the untrained optimizer is an
    Adam-like one at the scale 1e-3) or ``"paper"`` (Metz et al.'s
    initialisation and step ``0.001 d exp(0.001 m)``, as the paper's
    Section 5 starts it; see :mod:`benchmark_utils.optimizers.neural`).
    """

    name = "neural-optimizer"
    parameters = learned_optimizer_parameters(
        split=["train", "validation"], hidden=[32], init=["adam"])
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return NeuralOptimizer(self.hidden, start=self.init)
