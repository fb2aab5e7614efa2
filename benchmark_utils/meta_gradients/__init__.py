"""Meta-gradient estimators: one module each, one registry.

Every module of this package that defines a concrete
:class:`~.base.Estimator` subclass is registered by its ``name`` (the
value of a solver's ``gradient`` parameter), with nothing else to edit:

- ``stable``: the exact, overflow-free derivative for gradient descent on
  linear tasks, at a cost independent of the horizon (the reference);
- ``backprop``: autograd through the plain unrolled loop (the paper's
  warning: overflows for long horizons and large steps);
- ``truncated``: backprop through the last ``truncation`` steps only;
- ``forward``: forward mode (``torch.func.jvp``) through the plain loop;
- ``es``: antithetic evolution strategies (``sigma``, ``pairs``, ``seed``);
- ``pes``: persistent ES over truncations (``truncation``, ``sigma``,
  ``pairs``, ``seed``), unbiased for the full unroll;
- ``greedy``: the one-step greedy estimate (Baydin et al. 2018);
- ``tbptt``: truncated backprop through a persistent run, the segment's
  average loss, or the final loss of whole fresh runs (``truncation``,
  ``first_order``, ``meta_loss``): how the learned optimizers are
  meta-trained.
"""

import importlib
import inspect
import pkgutil

from ..validation import check_choice
from .base import TARGETS, Estimator, Option

# old ``gradient=`` values, with what replaced them
RENAMED = {"hypergradient": "greedy"}


def _discover():
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, Estimator) and not inspect.isabstract(cls)
                    and cls.__module__ == module.__name__):
                if cls.target not in TARGETS:
                    raise TypeError(f"{cls.__name__}.target must be one of "
                                    f"{TARGETS}, got {cls.target!r}")
                if cls.name in found:
                    raise TypeError(f"two estimators are named {cls.name!r}")
                found[cls.name] = cls
    return dict(sorted(found.items()))


#: name -> estimator class, every estimator of this package
ESTIMATORS = _discover()
#: every option any estimator declares -> the first declaration
OPTIONS = {key: option for cls in ESTIMATORS.values()
           for key, option in reversed(list(cls.options.items()))}
#: the options a solver exposes as parameters (the seed comes from benchopt)
SOLVER_OPTIONS = tuple(sorted(key for key in OPTIONS if key != "seed"))


def estimator_parameters():
    """``{option: [None]}`` for every solver option: what a meta-learning
    solver with a ``gradient`` parameter adds to its ``parameters``."""
    return {key: [None] for key in SOLVER_OPTIONS}


def get_estimator(gradient, **options):
    """The estimator called ``gradient``, configured with ``options``.

    ``options`` may hold any option an estimator declares; those set to
    None (= the estimator's default) are ignored, those this estimator does
    not use are checked all the same (a typo in a sweep fails at once). A
    bad value raises ValueError naming the parameter (``truncation > T``
    when the estimator first meets the problem, in ``unsupported``).
    """
    if gradient in RENAMED:
        raise ValueError(
            f"parameter 'gradient' must be one of "
            f"{', '.join(repr(name) for name in ESTIMATORS)}: "
            f"{gradient!r} was renamed {RENAMED[gradient]!r}"
        )
    cls = ESTIMATORS[check_choice("gradient", gradient, ESTIMATORS)]
    own = {}
    for key, value in options.items():
        check_choice("estimator option", key, OPTIONS)
        if value is None:
            continue
        if key in cls.options:
            own[key] = value
        else:
            OPTIONS[key].check(key, value)
    return cls(**own)


__all__ = ["ESTIMATORS", "OPTIONS", "SOLVER_OPTIONS", "RENAMED",
           "Estimator", "Option", "estimator_parameters", "get_estimator"]
