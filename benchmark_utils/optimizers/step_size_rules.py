"""Step-size rules with fixed hyper-parameters: the references a user
would pick instead of meta-learning (no ``theta`` is learned; ``theta``
holds the rule's hyper-parameters).

- :class:`HypergradientDescent` (Baydin et al. 2018), ``theta = (alpha_0,
  beta)``;
- :class:`PolyakStep`, ``theta = gamma``; needs the loss value.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch

from .base import InnerOptimizer


def _dot(a, b):
    """Row-wise inner product (B, d) x (B, d) -> (B, 1)."""
    return (a * b).sum(-1, keepdim=True)


class HypergradientState(NamedTuple):
    step_size: torch.Tensor      # (B, 1), alpha_{k-1}; nan before step 0
    previous_grad: torch.Tensor  # (B, d), g_{k-1}; 0 before step 0


@dataclass(frozen=True)
class HypergradientDescent(InnerOptimizer):
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
        nan = torch.full((B, 1), float("nan"), dtype=params.dtype,
                         device=params.device)
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
class PolyakStep(InnerOptimizer):
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
