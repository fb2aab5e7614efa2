"""The one meta-training loop every meta-learning solver shares.

Each meta-step estimates the meta-gradient at the current ``theta`` and lets
the meta-optimizer propose the next one. A meta-step whose meta-loss or
meta-gradient is not finite (the estimator failed: overflow, NaN; a finite
gradient of an infinite loss is no gradient) is counted in ``failures`` and
never averaged in: the meta-optimizer is told (``grad=None``) and decides
where to go (stay, or retreat toward its last good point). A proposal that
is not finite is counted too and rejected: ``theta`` is always finite, so
nothing already learned is lost and no NaN reaches the results.

Meta-training has converged, or is stuck, once ``theta`` has not changed for
``STALL_PATIENCE`` consecutive meta-steps (:attr:`MetaTrainer.stalled`): the
solvers stop there. This is a rule on the meta-learner's own state, never on
meta-test metrics, which would be early stopping on the test set.
"""

from dataclasses import dataclass
import math

import torch

STALL_PATIENCE = 10


@dataclass(frozen=True)
class SolverResult:
    """What every solver hands to the objective: an inner optimizer and its
    ``theta`` (learned, tuned or fixed).

    ``meta_steps`` meta-gradients were evaluated; ``meta_grad_failures`` of
    those steps failed (non-finite meta-loss or meta-gradient, or a
    non-finite proposal). ``inner_gradient_evaluations`` is what choosing
    ``theta`` cost, summed over meta-train tasks (see
    :class:`~benchmark_utils.meta_objectives.MetaGradient`); 0 for a rule
    that needs no tuning. ``validation_split``: whether ``theta`` was chosen
    on a held-out split of the meta-train tasks (train-by-validation) or on
    their training split; None for a rule chosen without either.
    ``device``: where ``theta`` was chosen, and where the objective runs the
    meta-test evaluation (None: the run's device).
    ``final``: the solver has finished (its ``run`` has returned or is
    returning: it stopped by itself, or it runs once), so this is the last
    result of its run: the objective then evaluates the held-out suites
    in full (see ``objective.py``).
    """

    optimizer: object
    theta: torch.Tensor
    meta_steps: int = 0
    meta_grad_failures: int = 0
    inner_gradient_evaluations: int = 0
    validation_split: bool | None = None
    device: object = None
    final: bool = False


class MetaTrainer:
    """Meta-train ``theta`` on ``problem`` with ``estimator``.

    ``estimator`` is one of :mod:`benchmark_utils.meta_gradients` (see
    :func:`~benchmark_utils.meta_gradients.get_estimator`); its state
    (:meth:`~benchmark_utils.meta_gradients.base.Estimator.init_state`)
    lives here, one per run, so that a stochastic estimator replays its
    noise in a new run. ``meta_optimizer`` is one of
    :mod:`benchmark_utils.meta_optimizers`.
    """

    def __init__(self, problem, estimator, meta_optimizer, theta0):
        self.problem = problem
        self.estimator = estimator
        self.meta_optimizer = meta_optimizer
        self.theta = theta0.detach().clone()
        self.state = estimator.init_state(problem, self.theta)
        self.meta_steps = 0
        self.failures = 0
        self.inner_gradient_evaluations = 0
        self.unchanged_steps = 0

    def step(self):
        """One meta-step; returns the estimator's ``MetaGradient``."""
        meta_grad, self.state = self.estimator.estimate(
            self.problem, self.theta, self.state)
        self.meta_steps += 1
        self.inner_gradient_evaluations += meta_grad.inner_gradient_evaluations
        grad = meta_grad.grad
        if not (math.isfinite(meta_grad.loss)
                and bool(torch.isfinite(grad).all())):
            grad = None         # e.g. backprop: log(inf) has derivative 0
        proposal = self.meta_optimizer.step(
            self.theta, meta_grad.loss, grad
        ).detach()
        finite = bool(torch.isfinite(proposal).all())
        if grad is None or not finite:
            self.failures += 1
        if not finite:
            proposal = self.theta
        if torch.equal(proposal, self.theta):
            self.unchanged_steps += 1
        else:
            self.unchanged_steps = 0
        self.theta = proposal
        return meta_grad

    @property
    def stalled(self):
        """True once theta has not changed for STALL_PATIENCE meta-steps."""
        return self.unchanged_steps >= STALL_PATIENCE

    def result(self):
        """A snapshot of what is learned so far."""
        return SolverResult(
            self.problem.optimizer, self.theta.clone(), self.meta_steps,
            self.failures, self.inner_gradient_evaluations,
            self.problem.objective.split == "validation",
            self.problem.tasks.device,
        )
