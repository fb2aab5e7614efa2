from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers.adafac import AdafacOptimizer


class Solver(LearnedOptimizerSolver):
    """A per-parameter MLP learned optimizer fed with factored (row and
    column) second moments, in the spirit of learned_optimization's
    ``AdafacMLPLOpt``: 10 features a coordinate, a sign-equivariant MLP of
    ``hidden`` units; meta-trained with the recipe every learned optimizer
    shares (see :func:`~benchmark_utils.meta_solver.
    learned_optimizer_parameters`)."""

    name = "adafac-optimizer"
    parameters = learned_optimizer_parameters(hidden=[16])
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return AdafacOptimizer(self.hidden)
