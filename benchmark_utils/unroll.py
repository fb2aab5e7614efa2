"""Running an inner optimizer for T steps on a batch of tasks.

Two ways, one for each purpose:

- :func:`unroll` is the plain loop, in the tasks' dtype, that autograd can
  differentiate. It is what the ``backprop`` meta-gradient goes through, with
  all the numerical trouble the paper describes (overflow for eta > 2/L,
  underflow for long horizons): it is kept plain on purpose.
- :func:`gd_exact` gives the same T steps of gradient descent on linear tasks
  (every :class:`~benchmark_utils.tasks.LinearTasks`) in closed form, with the
  iterate's derivative in eta, both in log scale: exact and overflow-free for
  any T, at a cost that does not grow with T. It feeds the ``stable``
  meta-gradient, the exact references and the objective's evaluation.
"""

from dataclasses import dataclass
import math

import torch

from .tasks import bmv


def run_steps(tasks, optimizer, theta, w, state, start, stop,
              on_step=None, first_order=False):
    """Steps ``start, ..., stop - 1`` of ``optimizer`` from ``(w, state)``.

    The one inner loop of the benchmark: ``w_{k+1}, s_{k+1} =
    update(w_k, tasks.inner_grad(w_k, k), s_k, theta)`` (see
    :func:`inner_step`). ``on_step(k, w)``, if given, sees every new
    iterate ``w_{k+1}`` (k = start, ...). Returns the final ``(w, state)``;
    differentiable in ``theta`` and ``w`` (forward or reverse mode) unless
    called under ``torch.no_grad``; ``first_order``: not through the inner
    gradients.
    """
    for k in range(start, stop):
        w, state = inner_step(tasks, optimizer, w, state, theta, k,
                              first_order)
        if on_step is not None:
            on_step(k, w)
    return w, state


def inner_step(tasks, optimizer, w, state, theta, k, first_order=False):
    """One step ``k`` of ``optimizer`` on every task; returns (w, state).

    ``first_order``: the inner gradient is taken at detached parameters (a
    constant for autograd). An optimizer with ``needs_loss = True`` also
    receives ``loss=tasks.inner_loss(w, k)``.
    """
    grad = tasks.inner_grad(w.detach() if first_order else w, k)
    if getattr(optimizer, "needs_loss", False):
        return optimizer.update(w, grad, state, theta,
                                loss=tasks.inner_loss(w, k))
    return optimizer.update(w, grad, state, theta)


def unroll(tasks, optimizer, theta, horizon, return_state=False):
    """Final parameters after ``horizon`` steps of ``optimizer`` (B, d)
    (and the optimizer's final state, with ``return_state``).

    Every task starts from ``tasks.w0`` and follows
    ``tasks.inner_grad(w, k)`` at step k (the full training gradient for
    linear tasks, a mini-batch gradient for networks); ``theta`` are the
    optimizer's meta-parameters. Optional parts of the optimizer protocol
    (see :mod:`~benchmark_utils.inner_optimizers`): an optimizer with
    ``needs_loss = True`` also receives ``loss=tasks.inner_loss(w, k)``, and
    one with a ``finalize(params, state)`` method is evaluated at the point
    it returns (schedule-free's average).
    """
    w = tasks.w0
    w, state = run_steps(tasks, optimizer, theta, w, optimizer.init(w), 0,
                         horizon)
    finalize = getattr(optimizer, "finalize", None)
    if finalize is not None:
        w = finalize(w, state)
    return (w, state) if return_state else w


class PersistentUnroll:
    """An inner run on a batch of tasks, advanced one truncation at a time.

    Truncated meta-training (and persistent estimators such as PES) cut one
    inner run of ``horizon`` steps into segments: each meta-step continues
    the run from where the previous segment stopped, with the state
    detached, and a new run starts (from ``tasks.restart(run)``, or
    ``tasks`` itself) once ``horizon`` steps are done. ``state`` is the
    inner optimizer's state, ``step`` the step number within the run.
    """

    def __init__(self, tasks, optimizer, horizon):
        self.base, self.optimizer, self.horizon = tasks, optimizer, horizon
        self.runs = 0
        self._restart()

    def _restart(self):
        restart = getattr(self.base, "restart", None)
        self.tasks = self.base if restart is None else restart(self.runs)
        self.runs += 1
        self.w = self.tasks.w0
        self.state = self.optimizer.init(self.w)
        self.step = 0

    @property
    def done(self):
        """True once the current run has reached the horizon."""
        return self.step >= self.horizon

    def advance(self, theta, length):
        """Advance up to ``length`` steps with ``theta``; return the new
        iterate, differentiable in ``theta`` through this segment only
        (the stored run state is detached). Restarts a finished run first.
        """
        if self.done:
            self._restart()
        n = min(length, self.horizon - self.step)
        w, state = run_steps(self.tasks, self.optimizer, theta, self.w,
                             self.state, self.step, self.step + n)
        self.w, self.state = w.detach(), _detach(state)
        self.step += n
        return w

    def segment(self, theta, length, meta_loss, first_order=False):
        """Advance up to ``length`` steps with meta-parameters ``theta``.

        Returns the mean of ``meta_loss(tasks, w_k)`` (a (B,) tensor) over
        the steps k of the segment, differentiable in ``theta`` through
        the segment only (``first_order``: not through the inner
        gradients, which are then computed at detached parameters). The
        run's state is then detached; it restarts when it reaches the
        horizon, or when its parameters are no longer finite.
        """
        if self.done:
            self._restart()
        losses = []
        n = min(length, self.horizon - self.step)
        w, state = run_steps(
            self.tasks, self.optimizer, theta, self.w, self.state,
            self.step, self.step + n,
            lambda k, w: losses.append(meta_loss(self.tasks, w)),
            first_order,
        )
        self.w = w.detach()
        self.state = _detach(state)
        self.step += n
        if not bool(torch.isfinite(self.w).all()):
            self.step = self.horizon        # restart at the next segment
        return sum(losses) / n


def _detach(state):
    if isinstance(state, torch.Tensor):
        return state.detach()
    if hasattr(state, "_fields"):                      # a named tuple
        return type(state)(*(_detach(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(_detach(s) for s in state)
    if isinstance(state, dict):
        return {k: _detach(v) for k, v in state.items()}
    return state


@dataclass(frozen=True, eq=False)
class ScaledIterate:
    """GD iterate ``w_T`` and tangent ``dw_T/deta`` in log scale, per task.

    ``w_T = exp(log_scale) * w`` and ``dw_T/deta = exp(log_scale) * tangent``
    where ``w``'s coordinates in the eigenbasis are at most 1 in magnitude
    (``||w|| <= sqrt(d)``); ``z = exp(-log_scale)`` for tasks whose losses have
    a linear or constant part (then ``log_scale >= 0``) and 0 for purely
    quadratic ones, so that ``P w - q z`` is the scaled residual. Float64.
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
    """T steps of GD with step ``eta`` on linear tasks, in closed form.

    With ``A = P^T P = V diag(lambda) V^T`` and ``b = P^T q = V beta`` (the
    training loss's :class:`~benchmark_utils.tasks.Spectrum`), GD
    ``w_{k+1} = w_k - eta (A w_k - b)`` keeps the part of ``w0`` outside
    ``range(V)`` and moves the coordinates ``a = V^T w`` as::

        a_T = r^T a_0 + phi beta,       r = 1 - eta lambda,
        phi = (1 - r^T) / lambda        (= eta T where lambda = 0),
        da_T/deta = T r^(T-1) (beta - lambda a_0).

    Every factor is formed from its logarithm (``log|r| = log1p(-eta
    lambda)`` or ``log(eta lambda - 1)``, ``expm1`` for ``1 - r^T``), and the
    common scale ``S`` is the largest term's magnitude, so nothing overflows
    or underflows whatever T: at T = 20000, ``f(w_T)`` can be ``e^-800`` or
    ``e^+800`` and its logarithm is still exact.
    """
    spec = tasks.train.spectrum
    lam, V, beta = spec.eigvals, spec.basis, spec.beta
    w0 = tasks.w0.double()
    a0 = bmv(V.transpose(-1, -2), w0)
    T, eta = int(horizon), float(eta)
    x = eta * lam

    # log|r| and signs of r^T and r^(T-1)
    log_r = torch.where(x < 1, torch.log1p(-x), torch.log(x - 1))
    sign_r = torch.sign(1 - x)
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
