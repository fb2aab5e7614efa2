from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers.lstm import LSTMOptimizer


class Solver(MetaLearningSolver):
    """A coordinate-wise LSTM learned optimizer (Andrychowicz et al. 2016,
    2 x 20 cells by default), meta-trained by truncated backprop through
    persistent inner runs (``gradient="tbptt"``, segments of
    ``truncation`` steps).

    ``split="validation"``: the meta-loss is each task's held-out last
    ``val_fraction`` of samples (train-by-validation); ``split="train"``:
    its training loss (train-by-train); averaged over the unroll
    (``meta_objective="naive"``) or its log. Adam on theta, norm-clipped;
    stops after ``max_meta_steps`` meta-steps. Runs on ``device``.
    """

    name = "lstm-optimizer"
    parameters = {
        "split": ["validation"],
        "meta_objective": ["naive"],
        "val_fraction": [0.5],
        "truncation": [20],
        "max_meta_steps": [10],
        "hidden": [20],
        "meta_optimizer": ["adam"],
        "meta_lr": [3e-3],
        "device": ["auto"],
    }
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return LSTMOptimizer(self.hidden)

    def meta_setup(self):
        return MetaSetup(self.meta_objective, self.split, "tbptt",
                         self.val_fraction,
                         dict(truncation=self.truncation))
