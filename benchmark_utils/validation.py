"""Parameter checks shared by datasets, solvers and the objective.

Every check raises a ``ValueError`` that names the parameter, the value it got
and what is allowed, so that a bad setting in a sweep fails at once, before any
computation, with a message that says how to fix it.
"""

import math
import numbers


def _fail(name, value, allowed):
    raise ValueError(f"parameter {name!r} must be {allowed}, got {value!r}")


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        _fail(name, value, "one of " + ", ".join(repr(c) for c in choices))
    return value


def check_int(name, value, minimum=1):
    """Return ``value`` as an int if it is an integer >= ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        _fail(name, value, f"an integer >= {minimum}")
    return int(value)


def check_float(name, value, low=None, high=None, low_open=False,
                high_open=False):
    """Return ``value`` as a float if it is finite and in the given interval.

    ``low``/``high`` bound the interval (None = unbounded); ``*_open`` makes
    the bound strict.
    """
    ok = (
        isinstance(value, numbers.Real) and not isinstance(value, bool)
        and math.isfinite(value)
    )
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "+inf" if high is None else f"{high:g}"
        interval = (
            ("(" if low_open or low is None else "[") + f"{lo}, {hi}"
            + (")" if high_open or high is None else "]")
        )
        _fail(name, value, f"a finite number in {interval}")
    return float(value)


def check_bool(name, value):
    """Return ``value`` if it is True or False (not 0, 1 or a string)."""
    if not isinstance(value, bool):
        _fail(name, value, "True or False")
    return value


def check_positive(name, value):
    """Return ``value`` as a float if it is finite and > 0."""
    return check_float(name, value, low=0.0, low_open=True)


def check_optional_positive(name, value):
    """Like :func:`check_positive`, but ``None`` (= a default) passes."""
    return None if value is None else check_positive(name, value)


def check_split(val_fraction, n_samples):
    """``(n_train, n_val)`` of a split of ``n_samples`` samples that holds out
    ``round(val_fraction * n_samples)``; both parts must be non-empty."""
    val_fraction = check_float("val_fraction", val_fraction, 0.0, 1.0, True,
                               True)
    n_val = int(round(val_fraction * n_samples))
    if not 1 <= n_val <= n_samples - 1:
        raise ValueError(
            f"parameter 'val_fraction' must leave at least one training "
            f"and one validation sample out of n_samples={n_samples}, got "
            f"{val_fraction!r} ({n_samples - n_val} train / {n_val} "
            "validation)"
        )
    return n_samples - n_val, n_val


def invalid_data(err, fail_fast=None):
    """What a dataset's ``get_data`` returns when its parameters are invalid
    (``err``, the ValueError of a check above): no tasks, and the reason,
    which the objective's ``skip`` reports for this dataset.

    benchopt calls ``get_data`` outside its per-run error handling, so an
    exception there would abort the whole run (every other configuration
    of a sweep with it, and the result file); a skip with the message keeps
    the rest. ``fail_fast`` (benchopt's ``BENCHOPT_RAISE_ON_ERROR``)
    re-raises instead (None: read it from benchopt's settings).
    """
    if fail_fast is None:
        from benchopt.config import RAISE_ON_ERROR
        fail_fast = bool(RAISE_ON_ERROR)
    if fail_fast:
        raise err
    return dict(train_tasks=None, test_tasks=None, horizon=None,
                unavailable=f"invalid dataset parameter: {err}")
