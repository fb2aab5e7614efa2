"""Meta-objectives: what meta-training minimises over the optimizer's theta.

With ``w_T(theta)`` the parameters after T inner steps on task j, and ``f_j``
the task's loss on the chosen split (its training samples for
train-by-train, held-out samples for train-by-validation)::

    naive:  F(theta) = mean_j f_j(w_T)
    log:    F(theta) = mean_j (1/T) log f_j(w_T)

The naive objective's meta-gradient explodes or vanishes exponentially in T;
the log objective's stays bounded (paper Section 3). Here, each is a
differentiable torch expression of ``w_T`` (for autograd); task families
with an exact closed form (linear tasks) also give it exactly with its
derivative in eta (``tasks.exact_meta_objective``).

:class:`MetaProblem` bundles what an estimator needs; :class:`MetaGradient`
is what it returns.
"""

from dataclasses import dataclass

import torch

from .unroll import unroll
from .validation import check_choice, check_int

KINDS = ("naive", "log")
SPLITS = ("train", "validation")


@dataclass(frozen=True)
class MetaObjective:
    """``kind`` in {"naive", "log"}, ``split`` in {"train", "validation"}."""

    kind: str = "log"
    split: str = "train"

    def __post_init__(self):
        check_choice("meta_objective", self.kind, KINDS)
        check_choice("split", self.split, SPLITS)

    def __call__(self, tasks, w_T, horizon):
        """Differentiable meta-loss of final parameters ``w_T`` (B, d).

        Plain arithmetic in ``w_T``'s dtype: ``f_j(w_T)`` may overflow to inf
        and its log become inf or NaN, which is the failure the paper
        describes for backprop.
        """
        return self.per_task(tasks, w_T, horizon).mean()

    def per_task(self, tasks, w_T, horizon):
        """The meta-loss of each task (B,): ``f_j(w_T)`` (naive) or
        ``log f_j(w_T) / T``; their mean is the meta-loss."""
        losses = tasks.loss(self.split)(w_T)
        if self.kind == "naive":
            return losses
        return torch.log(losses) / horizon


@dataclass(frozen=True)
class MetaGradient:
    """What an estimator returns: the meta-loss and its gradient in theta.

    Either may be non-finite when the estimator fails; the meta-training
    loop counts such steps as failures, whichever of the two it is.
    ``inner_gradient_evaluations`` is the estimate's cost, in inner
    gradient evaluations (one task's gradient at one point = 1), or the
    equivalent work for estimators that need none.
    """

    loss: float
    grad: torch.Tensor
    inner_gradient_evaluations: int = 0


@dataclass(frozen=True, eq=False)
class MetaProblem:
    """Everything a meta-gradient estimator needs.

    ``tasks`` are the meta-train tasks (already held out for
    train-by-validation), ``optimizer`` the learnable inner optimizer whose
    ``theta`` is learned (bound here to the tasks' parameter layout),
    ``objective`` the :class:`MetaObjective`, ``horizon`` the number T of
    inner steps.
    """

    tasks: object
    optimizer: object
    objective: MetaObjective
    horizon: int

    def __post_init__(self):
        check_int("horizon", self.horizon)
        object.__setattr__(self, "optimizer",
                           self.optimizer.for_layout(self.tasks.layout))

    def loss_at(self, w, tasks=None):
        """The meta-objective of iterate ``w`` (B, d) as a 0-d tensor,
        differentiable in ``w``; ``tasks`` (default :attr:`tasks`) is the
        batch a persistent run is on."""
        tasks = self.tasks if tasks is None else tasks
        return self.objective(tasks, w, self.horizon)

    def unrolled_value(self, theta):
        """``F(theta)`` by the plain unroll, without gradients, as a float
        (inf or NaN where the unrolled loss leaves the dtype's range)."""
        with torch.no_grad():
            w_T = unroll(self.tasks, self.optimizer,
                         theta.detach().to(self.tasks.device), self.horizon)
            return float(self.loss_at(w_T))

    def run_cost(self, runs=1):
        """Inner-gradient evaluations of ``runs`` full unrolls."""
        return runs * self.horizon * self.tasks.n_tasks
