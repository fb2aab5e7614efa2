"""Meta-test evaluation: run a solver's inner optimizer, report metrics.

Where the optimizer is plain gradient descent and the tasks have an exact
closed form (``tasks.has_exact_gd``: full-batch linear tasks), the metrics
are computed exactly, in float64 and in log scale, whatever the tasks'
dtype, so that every number in a result page is the true one: losses that
leave float64's range are +inf (and counted as diverged), their logarithms
stay finite. Everything else runs the one inner loop without gradients.
Both ask the tasks and the optimizer for capabilities, never for a name or
a class.
"""

import math

import torch

from .unroll import unroll


def evaluate_unrolled(tasks, optimizer, theta, horizon):
    """Metrics of ``horizon`` steps of any inner optimizer on every task:
    the plain unrolled loop without gradients, then ``tasks.metrics`` and
    the optimizer's ``diagnostics``."""
    with torch.no_grad():
        w_T, state = unroll(tasks, optimizer, theta.to(tasks.device),
                            horizon, return_state=True)
    out = tasks.metrics(w_T, horizon)
    out.update(optimizer.for_layout(tasks.layout).diagnostics(state))
    return out


def evaluate(tasks, result, horizon):
    """Metrics of a :class:`~benchmark_utils.meta_train.SolverResult` on
    ``tasks`` after ``horizon`` steps, plus the optimizer's hyper-parameters
    (``step_size``, ...; +inf where one is NaN). No metric is ever NaN: a
    non-finite loss is +inf and counts as diverged."""
    optimizer, theta = result.optimizer, result.theta
    if optimizer.is_gradient_descent and tasks.has_exact_gd:
        eta = float(optimizer.gd_step_size(theta.detach().double()))
        out = tasks.exact_gd_metrics(math.inf if math.isnan(eta) else eta,
                                     horizon)
    else:
        out = evaluate_unrolled(tasks, optimizer, theta, horizon)
    out.update(optimizer.hyperparameters(theta))
    return out
