from benchmark_utils.meta_solver import MetaLearningSolver, MetaSetup
from benchmark_utils.optimizers import NeuralOptimizer


class Solver(MetaLearningSolver):
    """A coordinate-wise neural learned optimizer (Metz et al. 2019),
    meta-trained by truncated backprop through persistent inner runs
    (``gradient="tbptt"``).

    ``split="train"``: the meta-loss is the training loss averaged over the
    unroll (train-by-train); ``split="validation"``: the loss on each
    task's held-out last ``val_fraction`` of samples (train-by-validation).
    ``meta_objective`` averages the loss (naive) or its log over the unroll.
    Meta-optimizer: ``meta_optimizer`` (adam or rmsprop) with meta-gradient
    norm clipped to 1; a meta-step whose meta-loss or meta-gradient is not
    finite is counted in ``meta_grad_failures`` and skipped. Stops after
    ``max_meta_steps`` meta-steps (or at benchopt's ``--timeout``). Runs on
    ``device`` ("auto": the run's device) with its update compiled by
    ``compile`` (see :mod:`benchmark_utils.meta_solver`).
    """

    name = "neural-optimizer"
    parameters = {
        "split": ["train", "validation"],
        "meta_objective": ["naive"],
        "val_fraction": [0.5],
        "truncation": [20],
        "max_meta_steps": [50],
        "hidden": [32],
        "meta_optimizer": ["adam"],
        "meta_lr": [3e-3],
        "device": ["auto"],
        "compile": ["auto"],
    }
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return NeuralOptimizer(self.hidden)

    def meta_setup(self):
        return MetaSetup(self.meta_objective, self.split, "tbptt",
                         self.val_fraction,
                         dict(truncation=self.truncation))
