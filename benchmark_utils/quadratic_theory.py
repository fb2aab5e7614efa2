"""Closed forms on quadratics, in float64 (paper Section 3).

For ``f(w) = 1/2 w^T H w`` with eigenpairs ``(lambda_i, u_i)`` and start
``w0`` with ``c_i = <w0, u_i>``, T steps of GD with step ``eta`` give::

    f(w_T) = 1/2 sum_i lambda_i c_i^2 (1 - eta lambda_i)^(2T)

The log meta-objective ``F(eta) = (1/T) log f(w_T)`` is computed as a
log-sum-exp of the terms, so it is exact where ``f(w_T)`` itself would over-
or underflow; with weights ``p_i`` = the softmax of the terms' logarithms::

    F'(eta) = -2 sum_i p_i lambda_i / (1 - eta lambda_i)

These are the references the stable meta-gradient and the objective's
``eta_star`` are held against. ``1 - eta lambda_i`` is formed from an exact
product (:mod:`benchmark_utils.exact_arithmetic`), so both stay accurate
near ``eta = 1/lambda_i``; where ``eta lambda_i = 1`` exactly for every
``i`` with ``c_i != 0`` (exact convergence) ``F = -inf`` and ``F'`` is
undefined (NaN).
"""

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp

from .exact_arithmetic import one_minus_product

GRID_SIZE = 4000


def _log_terms(eigvals, coeffs, eta, horizon):
    """Logs of ``lambda_i c_i^2 (1 - eta lambda_i)^(2T)``, shape (..., d)."""
    x = eta * eigvals
    r = one_minus_product(eta, eigvals)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_r = np.where(x < 0.5, np.log1p(-x), np.log(np.abs(r)))
        return (np.log(eigvals) + 2 * np.log(np.abs(coeffs))
                + 2 * horizon * log_r)


def log_objective(eigvals, coeffs, eta, horizon):
    """``(1/T) log f(w_T)`` per task: ``eigvals``, ``coeffs`` are (B, d)."""
    terms = _log_terms(eigvals, coeffs, eta, horizon)
    return (np.log(0.5) + logsumexp(terms, axis=-1)) / horizon


def log_objective_derivative(eigvals, coeffs, eta, horizon):
    """``d/deta (1/T) log f(w_T)`` per task, exact in float64."""
    terms = _log_terms(eigvals, coeffs, eta, horizon)
    with np.errstate(invalid="ignore"):
        weights = np.exp(terms - terms.max(axis=-1, keepdims=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = np.where(weights > 0,
                          eigvals / one_minus_product(eta, eigvals), 0.0)
        return -2 * (weights * slopes).sum(-1) / weights.sum(-1)


def naive_objective_derivative(eigvals, coeffs, eta, horizon):
    """``d/deta f(w_T) = -T sum_i lambda_i^2 c_i^2 (1-eta lambda_i)^(2T-1)``.

    Plain float64 arithmetic: it overflows to inf, or underflows to 0, where
    the true value leaves float64's range, as any meta-gradient of the naive
    objective must.
    """
    r = 1 - eta * eigvals
    with np.errstate(over="ignore", invalid="ignore"):
        return -horizon * (
            eigvals ** 2 * coeffs ** 2 * r ** (2 * horizon - 1)
        ).sum(-1)


def optimal_step_size(eigvals, coeffs, horizon):
    """``eta*``: the minimiser of the mean over tasks of ``F(eta)``.

    ``F`` grows for ``eta > 1/min(lambda)`` (every ``|1 - eta lambda_i|``
    grows), so the minimiser lies in ``(0, 2/min(lambda))``. A log-spaced grid
    of 4000 points over that range locates it, and Brent's method on
    ``F'`` refines it to float64 precision inside the bracketing grid cell.
    """
    eigvals = np.asarray(eigvals, dtype=np.float64)
    coeffs = np.asarray(coeffs, dtype=np.float64)
    lam_max = eigvals.max()
    lam_min = eigvals[eigvals > 0].min()
    grid = np.geomspace(1e-8 / lam_max, 2.0 / lam_min, GRID_SIZE)

    def mean_derivative(eta):
        return log_objective_derivative(eigvals, coeffs, eta, horizon).mean()

    values = np.concatenate([
        log_objective(eigvals, coeffs, chunk[:, None, None], horizon)
        .mean(-1) for chunk in np.array_split(grid, GRID_SIZE // 50)
    ])
    k = int(np.argmin(values))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, GRID_SIZE - 1)]
    d_lo, d_hi = mean_derivative(lo), mean_derivative(hi)
    if d_lo < 0 < d_hi:
        return float(brentq(mean_derivative, lo, hi, xtol=1e-300,
                            rtol=4 * np.finfo(float).eps, maxiter=500))
    return float(grid[k])
