"""Meta-objectives: what meta-training minimises over the optimizer's theta.

With ``w_T(theta)`` the parameters after T inner steps on task j, and ``f_j``
the task's loss on the chosen split (its training samples for
train-by-train, held-out samples for train-by-validation)::

    naive:  F(theta) = mean_j f_j(w_T)
    log:    F(theta) = mean_j (1/T) log f_j(w_T)

The naive objective's meta-gradient explodes or vanishes exponentially in T;
the log objective's stays bounded (paper Section 3). Each is available two
ways: as a differentiable torch expression of ``w_T`` (for autograd) and,
for gradient descent on linear tasks, exactly with its derivative in eta.
"""

from dataclasses import dataclass

import torch

from .validation import check_choice, check_int

KINDS = ("naive", "log")
SPLITS = ("train", "validation")


@dataclass(frozen=True)
class MetaObjective:
    """``kind`` in {"naive", "log"}, ``split`` in {"train", "validation"}."""

    kind: str = "log"
    split: str = "train"

    def __post_init__(self):
        check_choice("objective", self.kind, KINDS)
        check_choice("split", self.split, SPLITS)

    def __call__(self, tasks, w_T, horizon):
        """Differentiable meta-loss of final parameters ``w_T`` (B, d).

        Plain arithmetic in ``w_T``'s dtype: ``f_j(w_T)`` may overflow to inf
        and its log become inf or NaN, which is the failure the paper
        describes for backprop.
        """
        losses = tasks.loss(self.split)(w_T)
        if self.kind == "naive":
            return losses.mean()
        return torch.log(losses).mean() / horizon

    def exact(self, tasks, iterate, horizon):
        """Meta-loss and its derivative in eta from a ``ScaledIterate``.

        Float64; the log objective is finite for every finite eta, the naive
        one is +inf (and its derivative +-inf) where it leaves float64's
        range, as the true value does.
        """
        log_f, slope = tasks.loss(self.split).log_value_and_slope(iterate)
        if self.kind == "log":
            return log_f.mean() / horizon, slope.mean() / horizon
        # d f / d eta = f * d log f / d eta, formed in log space
        return (
            torch.exp(log_f).mean(),
            (torch.sign(slope) * torch.exp(log_f + torch.log(slope.abs())))
            .mean(),
        )


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

    ``tasks`` are the meta-train tasks (already split for
    train-by-validation), ``optimizer`` the inner optimizer whose ``theta``
    is learned, ``horizon`` the number T of inner steps.
    """

    tasks: object
    optimizer: object
    objective: MetaObjective
    horizon: int

    def __post_init__(self):
        check_int("horizon", self.horizon)
        self.tasks.loss(self.objective.split)  # raises if the split is absent
