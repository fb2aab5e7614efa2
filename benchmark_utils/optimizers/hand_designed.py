"""Hand-designed optimizers whose hyper-parameters meta-training learns.

The baselines every learned optimizer should beat (learned_optimization's
``LearnableSGD``, ``LearnableSGDM``, ``LearnableAdam``), each in a
parametrisation that keeps every ``theta`` valid:

- :class:`GradientDescent`: ``w <- w - eta g``, ``theta = log eta``;
- :class:`SGDMomentum`: ``m <- beta m + g``, ``w <- w - eta m``,
  ``theta = (log eta, logit beta)``;
- :class:`Adam`: Kingma and Ba (2015), ``theta = (log lr, logit beta1,
  logit beta2, log eps)``.

The hyper-parameters are computed from ``theta`` in its own dtype
(float64) and cast to the parameters' dtype where they meet them.
:func:`adam_apply` is the one Adam update: the inner Adam and the
meta-optimizer Adam (:mod:`benchmark_utils.meta_optimizers`, through
:func:`adam_step`) both run it.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch

from .base import (
    LearnableOptimizer, PreparedUpdate, log_of, logit_of, positive,
    reported, safe_sqrt, unit_interval,
)
from ..validation import check_float, check_positive


class AdamState(NamedTuple):
    m: torch.Tensor
    v: torch.Tensor
    step: int


def adam_init(params):
    zeros = torch.zeros_like(params)
    return AdamState(zeros, zeros, 0)


class AdamScalars(NamedTuple):
    """Adam's hyper-parameters as :func:`adam_apply` uses them: ``b1`` and
    ``b2`` in their own precision (for the bias corrections), the others
    cast to the parameters' dtype."""
    b1: object
    b2: object
    b1_: object             # b1, 1 - b1, b2, 1 - b2, lr, eps: cast
    one_b1: object
    b2_: object
    one_b2: object
    lr: object
    eps: object


def adam_scalars(lr, b1, b2, eps, params):
    """:class:`AdamScalars` of ``(lr, b1, b2, eps)`` (Python floats or 0-d
    tensors) for parameters like ``params``: ``1 - b1`` and ``1 - b2`` are
    formed in the hyper-parameters' precision, then cast."""
    def cast(x):
        return x.to(params.dtype) if isinstance(x, torch.Tensor) else x
    return AdamScalars(b1, b2, *(cast(x) for x in
                                 (b1, 1 - b1, b2, 1 - b2, lr, eps)))


def adam_apply(params, grad, state, h):
    """One Adam step (Kingma and Ba 2015) with the scalars ``h``
    (:func:`adam_scalars`)::

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    with the bias-corrected ``m_hat = m / (1 - b1^k)``, ``v_hat = v / (1 -
    b2^k)`` at step k = 1, 2, ... (``b1 = 0``: RMSProp with bias
    correction); the corrections are formed in the hyper-parameters'
    precision, then cast. The square root has a finite derivative where
    ``v = 0`` (:func:`~benchmark_utils.optimizers.base.safe_sqrt`).
    """
    k = state.step + 1
    # a float exponent: the same value, and torch.compile can differentiate
    # pow in a symbolic float step (not yet in a symbolic int one)
    c1, c2 = (x.to(params.dtype) if isinstance(x, torch.Tensor) else x
              for x in (1 - h.b1 ** float(k), 1 - h.b2 ** float(k)))
    m = h.b1_ * state.m + h.one_b1 * grad
    v = h.b2_ * state.v + h.one_b2 * grad.square()
    m_hat = m / c1
    v_hat = v / c2
    return (params - h.lr * m_hat / (safe_sqrt(v_hat) + h.eps),
            AdamState(m, v, k))


def adam_step(params, grad, state, lr, b1, b2, eps):
    """One Adam step with hyper-parameters ``(lr, b1, b2, eps)``, Python
    floats or 0-d tensors (:func:`adam_apply`)."""
    return adam_apply(params, grad, state,
                      adam_scalars(lr, b1, b2, eps, params))


def _as(x, like):
    """0-d ``x`` cast to ``like``'s dtype (differentiably)."""
    return x.to(like.dtype)


@dataclass(frozen=True)
class GradientDescent(PreparedUpdate, LearnableOptimizer):
    """``w_{k+1} = w_k - eta * grad f(w_k)``, ``theta = log eta`` (0-d)."""

    step_size: float = 0.1         # the initial eta

    is_gradient_descent = True

    def __post_init__(self):
        check_positive("eta0", self.step_size)

    def init(self, params):
        return ()

    def prepare(self, theta, params):
        return _as(self.gd_step_size(theta), params)

    def apply(self, params, grad, state, eta):
        return params - eta * grad, state

    def gd_step_size(self, theta):
        return positive(theta)

    def init_theta(self, gen=None, dtype=torch.float64):
        return self.theta_from()

    def hyperparameters(self, theta):
        return {"step_size": reported(positive(theta.double()))}

    def theta_from(self, step_size=None):
        eta = self.step_size if step_size is None else step_size
        return torch.tensor(log_of(eta), dtype=torch.float64)


@dataclass(frozen=True)
class SGDMomentum(PreparedUpdate, LearnableOptimizer):
    """Heavy ball, ``m <- beta m + g``, ``w <- w - eta m`` from ``m = 0``;
    ``theta = (log eta, logit beta)``."""

    step_size: float = 0.01
    momentum: float = 0.9

    def __post_init__(self):
        check_positive("eta0", self.step_size)
        check_float("momentum", self.momentum, 0.0, 1.0, True, True)

    def init(self, params):
        return torch.zeros_like(params)

    def prepare(self, theta, params):
        return (_as(positive(theta[0]), params),
                _as(unit_interval(theta[1]), params))

    def apply(self, params, grad, state, prepared):
        eta, beta = prepared
        m = beta * state + grad
        return params - eta * m, m

    def init_theta(self, gen=None, dtype=torch.float64):
        return self.theta_from()

    def hyperparameters(self, theta):
        theta = theta.double()
        return {"step_size": reported(positive(theta[0])),
                "momentum": reported(unit_interval(theta[1]))}

    def theta_from(self, step_size=None, momentum=None):
        eta = self.step_size if step_size is None else step_size
        beta = self.momentum if momentum is None else momentum
        return torch.tensor([log_of(eta), logit_of(beta)],
                            dtype=torch.float64)


@dataclass(frozen=True)
class Adam(PreparedUpdate, LearnableOptimizer):
    """Adam with ``theta = (log lr, logit beta1, logit beta2, log eps)``
    (see :func:`adam_apply`)."""

    step_size: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    def __post_init__(self):
        check_positive("eta0", self.step_size)
        check_float("beta1", self.beta1, 0.0, 1.0, True, True)
        check_float("beta2", self.beta2, 0.0, 1.0, True, True)
        check_positive("eps", self.eps)

    def init(self, params):
        return adam_init(params)

    def _natural(self, theta):
        return (positive(theta[0]), unit_interval(theta[1]),
                unit_interval(theta[2]), positive(theta[3]))

    def prepare(self, theta, params):
        return adam_scalars(*self._natural(theta), params)

    def apply(self, params, grad, state, scalars):
        return adam_apply(params, grad, state, scalars)

    def init_theta(self, gen=None, dtype=torch.float64):
        return self.theta_from()

    def hyperparameters(self, theta):
        lr, b1, b2, eps = self._natural(theta.double())
        return {"step_size": reported(lr), "beta1": reported(b1),
                "beta2": reported(b2), "eps": reported(eps)}

    def theta_from(self, step_size=None, beta1=None, beta2=None, eps=None):
        def pick(value, default):
            return default if value is None else value

        return torch.tensor([
            log_of(pick(step_size, self.step_size)),
            logit_of(pick(beta1, self.beta1)),
            logit_of(pick(beta2, self.beta2)),
            log_of(pick(eps, self.eps)),
        ], dtype=torch.float64)
