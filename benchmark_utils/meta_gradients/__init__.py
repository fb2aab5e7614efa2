"""Meta-gradient estimators: one module each, one interface.

An estimator has two methods::

    unsupported(problem) -> str | None   # why it cannot run on this problem
    estimate(problem, theta) -> MetaGradient

with ``problem`` a :class:`~benchmark_utils.meta_objectives.MetaProblem`;
:func:`get_estimator` returns one, configured with its options.

- ``stable``: the exact, overflow-free derivative for gradient descent on
  linear tasks, at a cost independent of the horizon (the reference);
- ``backprop``: autograd through the plain unrolled loop (the paper's
  warning: overflows for long horizons and large steps);
- ``truncated``: backprop through the last ``truncation`` steps only;
- ``forward``: forward mode (``torch.func.jvp``) through the plain loop;
- ``es``: antithetic evolution strategies (``sigma``, ``pairs``, ``seed``);
- ``pes``: persistent ES over truncations (``truncation``, ``sigma``,
  ``pairs``, ``seed``), unbiased for the full unroll;
- ``hypergradient``: the one-step greedy estimate (Baydin et al. 2018).

All but ``stable`` work on any task family through the generic task
protocol and :mod:`benchmark_utils.unroll`.
"""

from . import backprop, es, forward, hypergradient, pes, stable, truncated
from ..validation import check_choice, check_int, check_positive

ESTIMATORS = {
    "stable": stable, "backprop": backprop, "truncated": truncated,
    "forward": forward, "es": es, "pes": pes, "hypergradient": hypergradient,
}
OPTIONS = ("truncation", "sigma", "pairs", "seed")
STOCHASTIC = ("es", "pes")


def get_estimator(gradient, **options):
    """The estimator called ``gradient``, configured with ``options``.

    ``options`` may hold any of ``truncation`` (K, an integer in [1, T]),
    ``sigma`` (> 0), ``pairs`` (>= 1) and ``seed`` (>= 0); those set to None
    (= the default) are ignored, those the estimator does not use are
    checked all the same (a typo in a sweep fails at once). A bad value
    raises ValueError naming the parameter (``truncation > T`` when the
    estimator first meets the problem, in ``unsupported``).
    """
    module = ESTIMATORS[check_choice("gradient", gradient, ESTIMATORS)]
    checks = {"truncation": check_int, "sigma": check_positive,
              "pairs": check_int,
              "seed": lambda name, v: check_int(name, v, minimum=0)}
    for key, value in options.items():
        check_choice("estimator option", key, OPTIONS)
        if value is not None:
            checks[key](key, value)
    make = getattr(module, "Estimator", None)
    if make is None:
        return module
    return make(**{key: options[key] for key in make.OPTIONS
                   if options.get(key) is not None})
