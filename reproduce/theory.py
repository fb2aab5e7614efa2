"""Curves computed from the library, without benchopt (claims 1-3).

- :func:`meta_gradient_curves`: ``|F'(eta)|`` of the naive objective
  ``f(w_T)`` and of the log objective ``(1/T) log f(w_T)`` on a quadratic,
  against ``eta L`` and T, from the closed forms of
  :mod:`benchmark_utils.quadratic_theory` (paper Section 3: the naive one
  explodes past 2/L and vanishes below, exponentially in T; the log one is
  bounded by one constant for every T).
- :func:`backprop_errors`: relative error of backprop's log-objective
  meta-gradient (autograd through the plain unrolled loop, float32 and
  float64) and of the ``stable`` estimator, against the closed form.

The quadratic: eigenvalues evenly spaced in [0.01, 1] (L = 1), d = 50,
``c_i^2 = 1/d`` (the ``linspace`` family), so anyone can recompute it.
"""

import math

import numpy as np
import pandas as pd
import torch

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_solver import meta_problem
from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.quadratic_theory import (
    log_objective_derivative, naive_objective_derivative,
)
from benchmark_utils.tasks import DTYPES, make_generator, make_quadratic_tasks

DIM, CONDITION = 50, 100.0


def linspace_quadratic(dtype="float64", seed=0):
    """The quadratic of this module, as one task in ``dtype``."""
    return make_quadratic_tasks(1, DIM, "linspace", CONDITION,
                                make_generator(seed), DTYPES[dtype])


def meta_gradient_curves(horizons, n_eta=300):
    """Rows ``(horizon, eta_L, naive, log)``: ``|F'(eta)|`` of each
    meta-objective, ``eta L`` log-spaced in [0.05, 3] (float64; the naive
    derivative is inf where it leaves float64's range)."""
    eigvals, coeffs = linspace_quadratic().eigen_coordinates()
    L = eigvals.max()
    eta_L = np.unique(np.concatenate([
        np.geomspace(0.05, 3.0, n_eta), [0.5, 1.0, 1.5, 1.9, 2.1, 2.5]]))
    rows = []
    for T in horizons:
        for x in eta_L:
            eta = x / L
            with np.errstate(over="ignore", invalid="ignore"):
                naive = abs(float(naive_objective_derivative(
                    eigvals, coeffs, eta, T)[0]))
            log = abs(float(log_objective_derivative(
                eigvals, coeffs, eta, T)[0]))
            rows.append(dict(horizon=T, eta_L=float(x), naive=naive,
                             log=log))
    return pd.DataFrame(rows)


def _log_meta_gradient(name, tasks, theta, horizon):
    """``dF/deta`` of the log objective by the estimator ``name`` at
    gradient descent's ``theta = log eta``."""
    problem = meta_problem(tasks, GradientDescent(), "log", "train", horizon)
    est = get_estimator(name)
    mg, _ = est.estimate(problem, theta, est.init_state(problem, theta))
    return float(mg.grad) / float(torch.exp(theta))


def backprop_errors(horizons, eta_Ls=(0.5, 2.1)):
    """Rows ``(estimator, dtype, eta_L, horizon, rel_error)``: relative
    error of the log objective's meta-gradient against the closed form;
    ``inf`` where the estimate is not finite (NaN or inf)."""
    exact_tasks = linspace_quadratic("float64")
    eigvals, coeffs = exact_tasks.eigen_coordinates()
    L = float(eigvals.max())
    rows = []
    for x in eta_Ls:
        for T in horizons:
            theta = GradientDescent().theta_from(step_size=x / L)
            eta = float(torch.exp(theta))        # the step GD runs with
            exact = float(log_objective_derivative(
                eigvals, coeffs, eta, T)[0])
            runs = [("backprop", d, linspace_quadratic(d))
                    for d in ("float32", "float64")]
            runs.append(("stable", "float64", exact_tasks))
            for name, dtype, tasks in runs:
                g = _log_meta_gradient(name, tasks, theta, T)
                err = (abs(g - exact) / abs(exact) if math.isfinite(g)
                       else math.inf)
                rows.append(dict(estimator=name, dtype=dtype, eta_L=x,
                                 horizon=T, rel_error=err))
    return pd.DataFrame(rows)


def write_theory(results, quick):
    """Write ``meta_gradients.parquet`` and ``backprop_error.parquet``
    under ``results``."""
    horizons = [10, 100, 1000]
    bp_horizons = ([10, 100, 1000, 10000] if quick
                   else [10, 100, 1000, 3000, 10000, 30000])
    meta_gradient_curves(horizons).to_parquet(
        results / "meta_gradients.parquet")
    backprop_errors(bp_horizons).to_parquet(
        results / "backprop_error.parquet")
