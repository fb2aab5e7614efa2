"""Inner optimizers: update rules with explicit state, optax-style.

An inner optimizer is a pair of pure functions over explicit state::

    state = opt.init(params)
    params, state = opt.update(params, grad, state, theta)

where ``theta`` holds the meta-parameters that meta-training learns (for
gradient descent, the step size). Pure functions of tensors, so autograd can
differentiate an unrolled run with respect to ``theta``. Here: gradient
descent and Adam (theta = the step size); the neural learned optimizer
(theta = its network's weights) is in :mod:`benchmark_utils.neural_optimizer`.
"""

from dataclasses import dataclass

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
