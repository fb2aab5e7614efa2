from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers.lstm import LSTMOptimizer


class Solver(LearnedOptimizerSolver):
    """A coordinate-wise LSTM learned optimizer (Andrychowicz et al. 2016;
    ``hidden`` units in 2 layers, 2 x 20 in the paper), meta-trained by
    truncated backprop through persistent inner runs (``tbptt``) or
    online PES; see :class:`~benchmark_utils.meta_solver.
    LearnedOptimizerSolver` for the shared parameters."""

    name = "lstm-optimizer"
    parameters = learned_optimizer_parameters(
        split=["validation"], hidden=[20], max_meta_steps=[10])
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return LSTMOptimizer(self.hidden)
