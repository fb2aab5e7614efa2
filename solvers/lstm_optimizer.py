from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers.lstm import LSTMOptimizer


class Solver(LearnedOptimizerSolver):
    """A coordinate-wise LSTM learned optimizer (Andrychowicz et al. 2016;
    ``hidden`` units in 2 layers: 10 by default, 2 x 20 in the paper; at
    20 its meta-training on the mlp defaults took 97-108 s on one core,
    the longest of the default run, and benchopt's default timeout of
    100 s cut one of 5 repetitions; at 10 it takes about half), meta-trained
    with the recipe every learned optimizer shares (see
    :func:`~benchmark_utils.meta_solver.learned_optimizer_parameters`),
    with one override: ``first_order=True`` (no second derivatives, the
    paper's Section 5 setting). Through the inner gradients, the
    meta-gradient of its log-magnitude input (derivative ``1 / (p g)``)
    explodes: at the untrained theta on the mlp defaults its norm was
    10-340 over 6 runs and up to 37,000 along meta-training, against
    1.0-2.6 first-order (``python -m studies.meta_training --solver-name
    lstm-optimizer`` records it)."""

    name = "lstm-optimizer"
    parameters = learned_optimizer_parameters(hidden=[10],
                                              first_order=[True])
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return LSTMOptimizer(self.hidden)
