"""The estimator contract: one class per module, found by the registry.

An estimator is a subclass of :class:`Estimator` that declares::

    name        the value of a solver's ``gradient`` parameter
    options     {option name: Option(default, check, doc)}
    stochastic  True if it draws random numbers (then it has a ``seed``
                option, which the solvers set from benchopt's seed)
    target      what it estimates, for the common tests:
                "exact"    the meta-gradient of the full unroll, up to
                           rounding (backprop, forward mode, stable);
                "unbiased" the same in expectation (ES: of the
                           sigma-smoothed objective, close for small sigma);
                "biased"   another target (a truncation, a greedy sum);
                           at horizon T = 1 every truncation is the whole
                           run, and the estimate is exact

and implements::

    unsupported(problem) -> str | None    why it cannot run (a skip reason);
                                          ValueError for an option that
                                          does not fit (truncation > T)
    init_state(problem, theta) -> state   explicit state (default None): a
                                          persistent run, a random generator
    estimate(problem, theta, state) -> (MetaGradient, state)

``problem`` is a :class:`~benchmark_utils.meta_objectives.MetaProblem`;
``theta`` the learnable optimizer's unconstrained meta-parameters. The
estimate never raises on overflow: a failed estimate has a non-finite
loss or gradient, which the meta-training loop counts as a failure. Its
``inner_gradient_evaluations`` is the estimate's cost.

A new module in this package with such a class is registered by itself
(:data:`~benchmark_utils.meta_gradients.ESTIMATORS`), offered to the
solvers and run through the common estimator tests.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, ClassVar

TARGETS = ("exact", "unbiased", "biased")


@dataclass(frozen=True)
class Option:
    """A declared option: ``default`` (used when a solver passes None) and
    ``check(name, value) -> value``, which raises ValueError naming the
    parameter."""

    default: object
    check: Callable
    doc: str = ""


class Estimator(ABC):
    """A meta-gradient estimator (see the module docstring)."""

    name: ClassVar[str]
    options: ClassVar[dict] = {}
    stochastic: ClassVar[bool] = False
    target: ClassVar[str] = "exact"

    def __init__(self, **options):
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(
                f"estimator {self.name!r} has no option {unknown[0]!r} "
                f"(its options: {sorted(self.options) or 'none'})"
            )
        for key, option in self.options.items():
            value = options.get(key)
            value = option.default if value is None else option.check(key,
                                                                      value)
            setattr(self, key, value)

    def unsupported(self, problem):
        """The reason this estimator cannot run on ``problem``, or None."""
        return None

    def init_state(self, problem, theta):
        """The state before the first estimate of a meta-training run."""
        return None

    @abstractmethod
    def estimate(self, problem, theta, state):
        """``(MetaGradient, new state)`` at ``theta``."""

    def __repr__(self):
        values = ", ".join(f"{key}={getattr(self, key)!r}"
                           for key in self.options)
        return f"{self.name}({values})"
