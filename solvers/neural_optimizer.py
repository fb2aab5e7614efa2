from dataclasses import replace

from benchopt import BaseSolver

from benchmark_utils.devices import (
    device_unavailable, resolve_device, tasks_on,
)
from benchmark_utils.meta_gradients.tbptt import TBPTT
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.meta_optimizers import make_meta_optimizer
from benchmark_utils.meta_solver import (
    check_meta_objective, check_split_fits, check_val_fraction,
    split_unavailable,
)
from benchmark_utils.meta_train import MetaTrainer
from benchmark_utils.neural_optimizer import NeuralOptimizer
from benchmark_utils.tasks import make_generator
from benchmark_utils.validation import check_int


class Solver(BaseSolver):
    """A coordinate-wise neural learned optimizer (Metz et al. 2019),
    meta-trained by truncated backprop through persistent inner runs.

    ``split="train"``: the meta-loss is the training loss averaged over the
    unroll (train-by-train); ``split="validation"``: the loss on each
    task's held-out last ``val_fraction`` of samples (train-by-validation).
    ``objective`` averages the loss (naive) or its log over the unroll.
    Meta-optimizer: ``meta_optimizer`` (adam or rmsprop) with meta-gradient
    norm clipped to 1; a meta-step whose meta-loss or meta-gradient is not
    finite is counted in ``meta_grad_failures`` and skipped. Stops after
    ``max_meta_steps`` meta-steps (or at benchopt's ``--timeout``). Runs on
    ``device`` ("auto" = CUDA when available).
    """

    name = "neural-optimizer"
    sampling_strategy = "callback"
    parameters = {
        "split": ["train", "validation"],
        "objective": ["naive"],
        "val_fraction": [0.5],
        "truncation": [20],
        "max_meta_steps": [50],
        "hidden": [32],
        "meta_optimizer": ["adam"],
        "meta_lr": [3e-3],
        "device": ["auto"],
    }
    test_config = {"dataset": {"name": "mlp"}}

    def _check(self):
        check_meta_objective(self.objective, self.split, self.val_fraction)
        check_val_fraction(self.val_fraction)     # also when unused
        check_int("truncation", self.truncation)
        check_int("max_meta_steps", self.max_meta_steps)
        check_int("hidden", self.hidden)
        if self.meta_optimizer not in ("adam", "rmsprop"):
            raise ValueError(
                "parameter 'meta_optimizer' must be one of 'adam', "
                f"'rmsprop' for a neural optimizer, got "
                f"{self.meta_optimizer!r}"
            )
        make_meta_optimizer(self.meta_optimizer, self.meta_lr)

    def skip(self, tasks, horizon):
        self._check()
        reason = (split_unavailable(tasks, self.split)
                  or device_unavailable(self.device))
        if reason is None:
            check_split_fits(tasks, self.split, self.val_fraction)
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        self._check()
        device = resolve_device(self.device)
        if self.split == "validation":
            tasks = tasks.split(self.val_fraction)
        tasks = tasks_on(tasks, device)
        segments = getattr(tasks, "param_segments", (tasks.w0.shape[1],))
        optimizer = NeuralOptimizer(tuple(segments), self.hidden)
        self.problem = MetaProblem(
            tasks, optimizer, MetaObjective(self.objective, self.split),
            horizon,
        )
        gen = make_generator(self.get_seed(use_repetition=True))
        self.theta0 = optimizer.init_theta(gen, tasks.dtype).to(
            tasks.w0.device)

    def run(self, callback):
        self.trainer = MetaTrainer(
            self.problem, TBPTT(self.truncation),
            make_meta_optimizer(self.meta_optimizer, self.meta_lr),
            self.theta0,
        )
        while (callback() and not self.trainer.stalled
               and self.trainer.meta_steps < self.max_meta_steps):
            self.trainer.step()

    def get_result(self):
        learned = self.trainer.result()
        return dict(learned=replace(learned, theta=learned.theta.cpu()))
