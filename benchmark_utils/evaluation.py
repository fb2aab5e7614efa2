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


class RepeatedEvaluation:
    """:func:`evaluate`, reusing the last evaluation when the next result
    is the same: the same optimizer object, an equal ``theta`` (same
    shape, dtype, device and entries), the same tasks object and horizon.

    The meta-test evaluation is deterministic (fixed initialisations and
    mini-batch orders), so the metrics of an unchanged result are the ones
    already computed. A learned optimizer's result is unchanged between
    two selections (``select_every`` k: the best theta scored so far) and
    while its meta-training stalls; benchopt evaluates it at every one of
    its geometrically spaced evaluation points all the same, and each
    evaluation runs T inner steps on every meta-test task. Only the last
    evaluation is kept (one solver's results arrive in sequence); the
    optimizer and tasks are held, so their ids cannot be reused."""

    def __init__(self):
        self._last = None
        self.computed = 0           # evaluations actually run
        self.reused = 0

    def __call__(self, tasks, result, horizon):
        theta = result.theta.detach()
        last = self._last
        if (last is not None and last[0] is tasks
                and last[1] is result.optimizer and last[2] == horizon
                and _same_tensor(last[3], theta)):
            self.reused += 1
            return dict(last[4])
        out = evaluate(tasks, result, horizon)
        self.computed += 1
        self._last = (tasks, result.optimizer, horizon, theta.clone(),
                      dict(out))
        return out


def _same_tensor(a, b):
    """Equal shape, dtype, device and entries (NaN never equals)."""
    return (a.shape == b.shape and a.dtype == b.dtype
            and a.device == b.device and torch.equal(a, b))
