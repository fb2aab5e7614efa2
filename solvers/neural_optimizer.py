from benchmark_utils.meta_solver import (
    LearnedOptimizerSolver, learned_optimizer_parameters,
)
from benchmark_utils.optimizers import NeuralOptimizer


class Solver(LearnedOptimizerSolver):
    """A coordinate-wise neural learned optimizer (Metz et al. 2019),
    sign-equivariant, its step-number features stopped at the meta-training
    horizon (:mod:`benchmark_utils.optimizers.neural`).

    ``split="train"``: the meta-loss is the training loss (train-by-train);
    ``split="validation"`` (train-by-validation): by default
    (``val_fraction="held_out"``, the paper's Section 5 "n + n" samples)
    the network trains on all of each meta-train task's training samples
    and the meta-loss is the loss on the task's own held-out images, the
    two re-partitioned at every inner run; a number in (0, 1) holds out
    that fraction of the training samples instead (trained on fewer
    samples than the meta-test tasks, the learned optimizer then did worse
    on them than its start: docs/neural_meta_training.md). Default
    meta-training: ``meta_loss="final"``,
    the loss at the end of whole inner runs (fresh initialisations,
    mini-batch orders and partitions), by backprop through their last
    ``truncation`` (20) steps (None: the whole run, exact);
    ``meta_loss="average"`` is Metz et al.'s truncated backprop through
    persistent runs of the loss averaged over each segment. The result is
    the best theta by meta-validation runs of the meta-train tasks, scored
    every ``select_every`` (5) meta-steps, its start included (None: the
    last theta). Meta-optimizer: ``meta_optimizer`` (adam, ``meta_lr``
    3e-3, or rmsprop) with meta-gradient norm clipped to 1; a meta-step
    whose meta-loss or meta-gradient is not finite is counted in
    ``meta_grad_failures`` and skipped. Stops after ``max_meta_steps``
    meta-steps (or at benchopt's ``--timeout``). Runs on ``device``
    ("auto": the run's device) with its update compiled by ``compile``.
    See :class:`~benchmark_utils.meta_solver.LearnedOptimizerSolver` for
    the shared parameters.
    """

    name = "neural-optimizer"
    parameters = learned_optimizer_parameters(
        hidden=[32], val_fraction=["held_out"], meta_loss=["final"],
        truncation=[20], meta_lr=[3e-3], max_meta_steps=[30],
        select_every=[5])
    test_config = {"dataset": {"name": "mlp"}}

    def make_optimizer(self):
        return NeuralOptimizer(self.hidden)
