"""T steps of gradient descent on linear tasks, in closed form.

For a training loss ``1/2 ||P w - q||^2 + c`` with ``A = P^T P = V diag(lambda)
V^T`` and ``b = P^T q = V beta`` (its :class:`~.linear.Spectrum`), gradient
descent ``w_{k+1} = w_k - eta (A w_k - b)`` keeps the part of ``w0``
outside ``range(V)`` and moves the coordinates ``a = V^T w`` as::

    a_T = r^T a_0 + phi beta,       r = 1 - eta lambda,
    phi = (1 - r^T) / lambda        (= eta T where lambda = 0),
    da_T/deta = T r^(T-1) (beta - lambda a_0).

:func:`gd_exact` forms every factor from its logarithm and factors out a
common scale, so nothing overflows or underflows whatever T (at T = 20000,
``f(w_T)`` can be ``e^-800`` or ``e^+800``, and its logarithm is still
exact); :func:`log_loss_and_slope` then gives ``log f(w_T)`` and ``d/deta
log f(w_T)`` of any quadratic loss of the task, from which
:func:`exact_meta_objective` and :func:`exact_metrics` follow. Everything is
float64, at a cost that does not depend on T once the spectrum is known.

``r = 1 - eta lambda`` is formed from the exact product ``eta lambda = hi +
lo`` (Dekker's two-product, :mod:`benchmark_utils.exact_arithmetic`), so
that ``|r|`` keeps its relative accuracy near ``eta = 1/lambda``, where the
rounded ``1 - fl(eta lambda)`` would have an error of up to 100% (and its
T-th power any error at all).

Exact convergence: where ``eta lambda = 1`` exactly in every direction the
start point has, ``w_T`` is the minimiser and ``f(w_T) = 0`` for a purely
quadratic loss; then ``log f(w_T) = -inf``, its derivative in eta is
undefined (NaN), and the meta-training loop counts the step as a failure.
"""

from dataclasses import dataclass
import math

import torch

from ..exact_arithmetic import one_minus_product


def bmv(matrix, vector):
    """Batched matrix-vector product: (B, m, d) x (B, d) -> (B, m)."""
    return torch.matmul(matrix, vector.unsqueeze(-1)).squeeze(-1)


@dataclass(frozen=True, eq=False)
class ScaledIterate:
    """GD iterate ``w_T`` and tangent ``dw_T/deta`` in log scale, per task.

    ``w_T = exp(log_scale) * w`` and ``dw_T/deta = exp(log_scale) * tangent``
    where ``w``'s coordinates in the eigenbasis are at most 1 in magnitude
    (``||w|| <= sqrt(d)``); ``z = exp(-log_scale)`` for tasks whose losses
    have a linear or constant part (then ``log_scale >= 0``) and 0 for
    purely quadratic ones, so that ``P w - q z`` is the scaled residual.
    """

    log_scale: torch.Tensor   # (B,)
    w: torch.Tensor           # (B, d)
    tangent: torch.Tensor     # (B, d)
    z: torch.Tensor           # (B,)


def _signed_exp(sign, log_abs):
    return sign * torch.exp(log_abs)


def _log_abs(x):
    return torch.log(torch.abs(x))


def gd_exact(tasks, eta, horizon):
    """``horizon`` GD steps with step ``eta`` on linear ``tasks``, as a
    :class:`ScaledIterate` (see the module docstring)."""
    spec = tasks.train.spectrum
    lam, V, beta = spec.eigvals, spec.basis, spec.beta
    w0 = tasks.w0.double()
    a0 = bmv(V.transpose(-1, -2), w0)
    T, eta = int(horizon), float(eta)
    x = eta * lam
    r = one_minus_product(eta, lam)

    # log|r| (log1p keeps small eta lambda exact) and signs of r^T, r^(T-1)
    log_r = torch.where(x < 0.5, torch.log1p(-x), _log_abs(r))
    sign_r = torch.sign(r)
    sign_rT = sign_r ** T
    sign_rT1 = sign_r ** (T - 1)
    u = T * log_r                                   # log |r^T|
    u1 = (T - 1) * log_r if T > 1 else torch.zeros_like(log_r)

    # log|1 - r^T| and its sign, without cancellation
    pos = sign_rT > 0
    log_one_minus = torch.where(
        pos,
        torch.where(u < 0, torch.log(-torch.expm1(u)),
                    u + torch.log(-torch.expm1(-u))),
        torch.logaddexp(torch.zeros_like(u), u),
    )
    sign_one_minus = torch.where(pos, -torch.sign(u), torch.ones_like(u))
    has_lam = lam > 0
    log_phi = torch.where(
        has_lam, log_one_minus - torch.log(lam),
        torch.full_like(lam, math.log(eta * T) if eta > 0 else -math.inf),
    )
    sign_phi = torch.where(has_lam, sign_one_minus, torch.ones_like(lam))

    # magnitudes of the two terms of a_T, and the common scale
    log_transient = u + _log_abs(a0)
    log_drift = log_phi + _log_abs(beta)
    log_scale = torch.logaddexp(log_transient, log_drift).amax(-1)
    w_perp = None
    if V.shape[-1] < V.shape[-2]:
        w_perp = w0 - bmv(V, a0)
        log_scale = torch.maximum(log_scale, _log_abs(w_perp).amax(-1))
    affine = tasks.is_affine
    log_scale = torch.where(affine, log_scale.clamp_min(0.0), log_scale)
    log_scale = torch.where(torch.isfinite(log_scale), log_scale,
                            torch.zeros_like(log_scale))
    ls = log_scale.unsqueeze(-1)

    a_T = (
        _signed_exp(sign_rT * torch.sign(a0), log_transient - ls)
        + _signed_exp(sign_phi * torch.sign(beta), log_drift - ls)
    )
    slope = beta - lam * a0
    da_T = T * _signed_exp(sign_rT1 * torch.sign(slope),
                           u1 + _log_abs(slope) - ls)
    w = bmv(V, a_T)
    if w_perp is not None:
        w = w + _signed_exp(torch.sign(w_perp), _log_abs(w_perp) - ls)
    z = torch.where(affine, torch.exp(-log_scale), torch.zeros_like(log_scale))
    return ScaledIterate(log_scale, w, bmv(V, da_T), z)


def log_loss_and_slope(form, it):
    """``log f(w_T)`` and ``d/deta log f(w_T)`` per task, in float64, of the
    :class:`~.linear.QuadraticLoss` ``form`` at the :class:`ScaledIterate`
    ``it`` (``w_T = S w``, ``dw_T/deta = S t``). With the scaled residual
    ``rho = P w - q z`` (``z = 1/S``)::

        f(w_T) = S^2 (1/2 ||rho||^2 + c z^2)
        d/deta log f(w_T) = <rho, P t> / (1/2 ||rho||^2 + c z^2)

    so both are finite wherever ``f(w_T)`` over- or underflows (at exact
    convergence, -inf and NaN: see the module docstring).
    """
    form = form.float64
    z = it.z.unsqueeze(-1)
    rho = (it.w if form.P is None else bmv(form.P, it.w)) - form.q * z
    drho = it.tangent if form.P is None else bmv(form.P, it.tangent)
    scaled = 0.5 * rho.square().sum(-1) + form.c * it.z.square()
    log_f = 2.0 * it.log_scale + torch.log(scaled)
    return log_f, (rho * drho).sum(-1) / scaled


def exact_meta_objective(tasks, objective, eta, horizon):
    """Meta-loss and its derivative in eta, float64 0-d tensors.

    ``objective`` is a :class:`~benchmark_utils.meta_objectives.
    MetaObjective`: the log objective ``mean (1/T) log f(w_T)`` is finite for
    every finite eta (but exact convergence); the naive one ``mean f(w_T)``
    is +inf (and its derivative +-inf) where it leaves float64's range, as
    the true value does.
    """
    it = gd_exact(tasks, eta, horizon)
    log_f, slope = log_loss_and_slope(tasks.loss(objective.split), it)
    if objective.kind == "log":
        return log_f.mean() / horizon, slope.mean() / horizon
    # d f / d eta = f * d log f / d eta, formed in log space
    return (
        torch.exp(log_f).mean(),
        (torch.sign(slope) * torch.exp(log_f + torch.log(slope.abs())))
        .mean(),
    )


def _mean(x):
    """Mean as a plain float; +inf if any entry is +inf."""
    return float(x.mean())


def exact_metrics(tasks, eta, horizon):
    """Metrics of ``horizon`` GD steps with step ``eta`` on every task.

    Plain floats: ``value`` (mean test loss at ``w_T``), ``train_loss``,
    ``log_objective`` (mean ``(1/T) log`` test loss), ``diverged_fraction``
    (share of tasks whose test loss is not finite) and, where the tasks
    know ``w*``, ``excess_risk`` (mean ``||w_T - w*||^2``). A non-finite
    eta has diverged: every loss is +inf.
    """
    if not math.isfinite(eta):
        out = dict(value=math.inf, train_loss=math.inf,
                   log_objective=math.inf, diverged_fraction=1.0)
        if tasks.w_star is not None:
            out["excess_risk"] = math.inf
        return out
    it = gd_exact(tasks, eta, horizon)
    log_test, _ = log_loss_and_slope(tasks.test, it)
    log_train, _ = log_loss_and_slope(tasks.train, it)
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
