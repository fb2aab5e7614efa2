"""Meta-gradient estimators: one module each, one interface.

Each module defines::

    unsupported(problem) -> str | None   # why it cannot run on this problem
    estimate(problem, theta) -> MetaGradient

with ``problem`` a :class:`~benchmark_utils.meta_objectives.MetaProblem`.

- ``backprop``: autograd through the plain unrolled loop (the paper's
  warning: overflows for long horizons and large steps);
- ``stable``: the exact, overflow-free derivative for gradient descent on
  linear tasks, at a cost independent of the horizon.
"""

from . import backprop, stable
from ..validation import check_choice

ESTIMATORS = {"backprop": backprop, "stable": stable}


def get_estimator(name):
    """The estimator module called ``name`` (parameter ``gradient``)."""
    return ESTIMATORS[check_choice("gradient", name, ESTIMATORS)]
