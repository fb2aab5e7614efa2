"""Inner optimizers: update rules with explicit state, optax-style.

An inner optimizer is a pair of pure functions over explicit state::

    state = opt.init(params)
    params, state = opt.update(params, grad, state, theta)

where ``params`` and ``grad`` are (B, d), one row per task, and ``theta``
holds the meta-parameters that meta-training learns (for gradient descent,
the step size) or, for the hand-designed references, the rule's fixed
hyper-parameters. Pure functions of tensors, so autograd can differentiate
an unrolled run with respect to ``theta``. Here: gradient descent, Adam
(theta = the step size), hypergradient descent and Polyak's step; the neural
learned optimizer (theta = its network's weights) is in
:mod:`benchmark_utils.neural_optimizer`, the torch.optim-based references in
:mod:`benchmark_utils.torch_optimizers`.

Two optional parts of the protocol, used by
:func:`~benchmark_utils.unroll.unroll`:

- ``needs_loss = True``: ``update`` also receives ``loss=`` the (B,) values
  ``tasks.inner_loss(w, k)`` of the loss whose gradient ``grad`` is (Polyak's
  step needs it);
- ``finalize(params, state)``: the point the run is evaluated at, when it is
  not the last iterate (schedule-free's averaged point).
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch


@dataclass(frozen=True)
class GradientDescent:
    """``w_{k+1} = w_k - eta * grad f(w_k)``, ``theta = eta`` (a scalar)."""

    def init(self, params):
        return ()

    def update(self, params, grad, state, theta):
        return params - theta * grad, state


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma and Ba 2015) with step size ``theta``::

        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2,
        w <- w - theta * m_hat / (sqrt(v_hat) + eps)

    with the bias-corrected ``m_hat = m / (1 - b1^k)``, ``v_hat = v / (1 -
    b2^k)`` at step k = 1, 2, ...
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8

    def init(self, params):
        zeros = torch.zeros_like(params)
        return (zeros, zeros, 0)

    def update(self, params, grad, state, theta):
        m, v, k = state
        k += 1
        m = self.b1 * m + (1 - self.b1) * grad
        v = self.b2 * v + (1 - self.b2) * grad.square()
        m_hat = m / (1 - self.b1 ** k)
        v_hat = v / (1 - self.b2 ** k)
        return params - theta * m_hat / (v_hat.sqrt() + self.eps), (m, v, k)


def _dot(a, b):
    """Row-wise inner product (B, d) x (B, d) -> (B, 1)."""
    return (a * b).sum(-1, keepdim=True)


class HypergradientState(NamedTuple):
    step_size: torch.Tensor      # (B, 1), alpha_{k-1}; nan before step 0
    previous_grad: torch.Tensor  # (B, d), g_{k-1}; 0 before step 0


@dataclass(frozen=True)
class HypergradientDescent:
    """Hypergradient descent (Baydin et al. 2018), per task.

    ``theta = (alpha_0, beta)``. With ``g_k`` the gradient at step k, the
    step size follows the derivative of ``f(w_k)`` in ``alpha_{k-1}``,
    ``-<g_k, g_{k-1}>``, then ``w_{k+1} = w_k - alpha_k g_k``:

    - ``additive``:  ``alpha_k = alpha_{k-1} + beta <g_k, g_{k-1}>``;
    - ``multiplicative``: ``alpha_k = alpha_{k-1} (1 + beta cos(g_k,
      g_{k-1}))``, invariant to the scale of the loss.

    ``g_{-1} = 0``, so ``alpha_0`` is the first step size.
    """

    variant: str = "additive"

    def __post_init__(self):
        if self.variant not in ("additive", "multiplicative"):
            raise ValueError(
                "parameter 'variant' must be one of ['additive', "
                f"'multiplicative'], got {self.variant!r}"
            )

    def init(self, params):
        B = params.shape[0]
        nan = torch.full((B, 1), float("nan"), dtype=params.dtype)
        return HypergradientState(nan, torch.zeros_like(params))

    def update(self, params, grad, state, theta):
        alpha0, beta = theta[0], theta[1]
        previous = torch.where(torch.isnan(state.step_size), alpha0,
                               state.step_size)
        agreement = _dot(grad, state.previous_grad)
        if self.variant == "additive":
            alpha = previous + beta * agreement
        else:
            norms = grad.norm(dim=-1, keepdim=True) * \
                state.previous_grad.norm(dim=-1, keepdim=True)
            cosine = torch.where(norms > 0, agreement / norms, 0.0)
            alpha = previous * (1 + beta * cosine)
        return params - alpha * grad, HypergradientState(alpha, grad)


@dataclass(frozen=True)
class PolyakStep:
    """Polyak's step size, per task: with ``f*`` the optimal value,

        ``w_{k+1} = w_k - gamma (f(w_k) - f*) / ||g_k||^2 g_k``,

    ``theta = gamma`` (1 = Polyak's rule). A zero gradient gives a zero
    step. Needs the loss value (``needs_loss``).
    """

    optimal_value: float = 0.0
    needs_loss = True

    def init(self, params):
        return ()

    def update(self, params, grad, state, theta, loss):
        gap = (loss - self.optimal_value).unsqueeze(-1)
        sq = _dot(grad, grad)
        step = torch.where(sq > 0, gap / sq, 0.0)
        return params - theta * step * grad, state
