"""Error-free products, for ``1 - eta lambda`` near ``eta = 1/lambda``.

Gradient descent's contraction factor ``r = 1 - eta lambda`` enters the
closed forms as ``r^T``: near ``eta = 1/lambda`` the rounded ``1 -
fl(eta lambda)`` can be off by 100% (and its T-th power by anything).
Dekker's two-product gives ``eta lambda = hi + lo`` exactly, so ``(1 - hi)
- lo`` has full relative accuracy. Plain arithmetic: works on Python
floats, numpy arrays and torch tensors (float64) alike.

Where the split itself would overflow (``|eta lambda|`` past about 1e290,
so ``|r|`` is huge and plainly accurate), the rounded ``1 - fl(eta
lambda)`` is kept.
"""

import numpy as np
import torch

_SPLIT = 134217729.0        # 2^27 + 1, Veltkamp's splitting constant


def _split(x):
    t = _SPLIT * x
    high = t - (t - x)
    return high, x - high


def two_product(a, b):
    """``(hi, lo)`` with ``hi = fl(a b)`` and ``hi + lo = a b`` exactly
    (Dekker 1971), for float64 values whose product neither overflows nor
    underflows."""
    hi = a * b
    a1, a2 = _split(a)
    b1, b2 = _split(b)
    lo = a2 * b2 - (((hi - a1 * b1) - a2 * b1) - a1 * b2)
    return hi, lo


def one_minus_product(eta, lam):
    """``1 - eta lambda`` to full relative accuracy (float64)."""
    hi, lo = two_product(eta, lam)
    exact = (1.0 - hi) - lo
    where = torch.where if isinstance(exact, torch.Tensor) else np.where
    with np.errstate(invalid="ignore", over="ignore"):
        return where(lo == lo, exact, 1.0 - hi)       # lo is NaN on overflow
