"""Meta-test evaluation: run a learned inner optimizer, report metrics.

Gradient descent on linear tasks is evaluated exactly, in float64 and in log
scale (:func:`~benchmark_utils.unroll.gd_exact`), whatever the tasks' dtype,
so that every number in a result page is the true one: losses that leave
float64's range are +inf (and counted as diverged), their logarithms stay
finite.
"""

import math

import torch

from .inner_optimizers import GradientDescent
from .tasks import LinearTasks
from .unroll import gd_exact, unroll


def reported_step_size(eta):
    """The step size as reported: ``eta``, or +inf where it is NaN.

    Meta-training never proposes a non-finite step size (it rejects one and
    keeps the last finite ``theta``), but a solver's result could still
    carry NaN; a NaN in a result column would hide it in tables and plots,
    while +inf is counted as diverged with ``value = inf``.
    """
    return math.inf if math.isnan(eta) else eta


def _mean(x):
    """Mean as a plain float; +inf if any entry is +inf."""
    return float(x.mean())


def evaluate_gd(tasks, eta, horizon):
    """Metrics of ``horizon`` GD steps with step ``eta`` on every task.

    Returns plain floats: ``value`` (mean test loss at ``w_T``),
    ``train_loss``, ``log_objective`` (mean ``(1/T) log`` test loss),
    ``diverged_fraction`` (share of tasks whose test loss is not finite) and,
    where the tasks know ``w*``, ``excess_risk`` (mean ``||w_T - w*||^2``).
    """
    if not math.isfinite(eta):
        out = dict(value=math.inf, train_loss=math.inf,
                   log_objective=math.inf, diverged_fraction=1.0)
        if tasks.w_star is not None:
            out["excess_risk"] = math.inf
        return out
    it = gd_exact(tasks, eta, horizon)
    log_test, _ = tasks.test.log_value_and_slope(it)
    log_train, _ = tasks.train.log_value_and_slope(it)
    test = torch.exp(log_test)
    out = dict(
        value=_mean(test),
        train_loss=_mean(torch.exp(log_train)),
        log_objective=_mean(log_test) / horizon,
        diverged_fraction=_mean((~torch.isfinite(test)).double()),
    )
    if tasks.w_star is not None:
        gap = it.w - tasks.w_star.double() * it.z.unsqueeze(-1)
        out["excess_risk"] = _mean(
            torch.exp(2 * it.log_scale + torch.log(gap.square().sum(-1)))
        )
    return out


def evaluate_unrolled(tasks, optimizer, theta, horizon):
    """Metrics of ``horizon`` steps of any inner optimizer on every task.

    The plain unrolled loop without gradients, then ``tasks.metrics``, and
    the optimizer's own ``diagnostics`` where it has some; a scalar
    ``theta`` is reported as ``step_size``.
    """
    with torch.no_grad():
        w_T, state = unroll(tasks, optimizer, theta.to(tasks.w0), horizon,
                            return_state=True)
    out = tasks.metrics(w_T, horizon)
    if hasattr(optimizer, "diagnostics"):
        out.update(optimizer.diagnostics(state))
    if theta.numel() == 1:
        out["step_size"] = reported_step_size(float(theta))
    return out


def evaluate(tasks, learned, horizon):
    """Metrics of a :class:`~benchmark_utils.meta_train.LearnedOptimizer`.

    Full-batch gradient descent on linear tasks is evaluated exactly
    (:func:`evaluate_gd`); everything else, mini-batch SGD included, by
    running the optimizer (:func:`evaluate_unrolled`). A scalar step size
    is reported as ``step_size`` (+inf where it is NaN). No metric is ever
    NaN: a non-finite loss is +inf and counts as diverged.
    """
    theta = learned.theta
    if (isinstance(learned.optimizer, GradientDescent)
            and isinstance(tasks, LinearTasks) and tasks.full_batch):
        eta = float(theta)
        return dict(evaluate_gd(tasks, eta, horizon),
                    step_size=reported_step_size(eta))
    return evaluate_unrolled(tasks, learned.optimizer, theta, horizon)
