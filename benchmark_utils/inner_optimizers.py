"""Inner optimizers: update rules with explicit state, optax-style.

An inner optimizer is a pair of pure functions over explicit state::

    state = opt.init(params)
    params, state = opt.update(params, grad, state, theta)

where ``theta`` holds the meta-parameters that meta-training learns (for
gradient descent, the step size). Pure functions of tensors, so autograd can
differentiate an unrolled run with respect to ``theta``.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class GradientDescent:
    """``w_{k+1} = w_k - eta * grad f(w_k)``, ``theta = eta`` (a scalar)."""

    def init(self, params):
        return ()

    def update(self, params, grad, state, theta):
        return params - theta * grad, state
