"""Meta-optimizers: ``theta_next = opt.step(theta, loss, grad)``.

Each has ``step(theta, loss, grad) -> theta_next`` and a ``default_lr`` used
when the solver's ``meta_lr`` is None. ``grad`` is None when the estimator
failed at ``theta`` (a non-finite meta-loss or meta-gradient): each says
what it does then.

- ``brent`` (default): a safeguarded one-dimensional root finder on the
  meta-objective's derivative in ``log eta``. The log objective has a bounded
  derivative and a unique minimiser (paper Section 3: quasi-convex), so the
  sign of the derivative says on which side eta* lies; bracketing then
  Brent's method reach eta* to 1e-3 in a dozen or two meta-gradients from
  any start, and never leave eta > 0.
- ``projected-gd``: the paper's meta gradient descent,
  ``eta_{k+1} = max(0, eta_k - meta_lr / sqrt(k) * F'(eta_k))``, k = 1, 2, ...
  (the paper uses meta_lr = 1/100), kept for the reproduction.
- ``adam`` and ``rmsprop``: for vector ``theta`` (a neural learned
  optimizer's weights), with the meta-gradient's norm clipped to
  ``clip`` (default 1) before the update; a failed meta-gradient leaves
  ``theta`` and the moment estimates unchanged.
"""

import math

import torch

from .validation import check_choice, check_optional_positive

_EPS = 2.0 ** -52
_X_MAX = 700.0          # |log eta| bound: exp(700) ~ 1e304


class ProjectedGD:
    """``eta_{k+1} = max(0, eta_k - lr / sqrt(k) * g_k)``.

    A failed meta-gradient counts as zero (eta stays), as the paper's
    TensorFlow baseline zeroes non-finite gradients.
    """

    default_lr = 0.01

    def __init__(self, lr):
        self.lr = lr
        self.k = 0

    def step(self, theta, loss, grad):
        self.k += 1
        if grad is None:
            return theta
        return (theta - self.lr / math.sqrt(self.k) * grad).clamp_min(0.0)


def _evaluate(x_good, x_new):
    """Yield ``x_new`` until its ``g`` comes back; where the estimator fails
    (``g`` is None), retry halfway back toward ``x_good``."""
    while True:
        g = yield x_new
        if g is not None:
            return x_new, g
        x_new = 0.5 * (x_good + x_new)


def _bracket_then_brent(x, g, step, xtol):
    """Generator of the points to evaluate; ``send`` it each point's ``g``
    (None where the estimator failed: see :func:`_evaluate`).

    Bracketing: move ``x`` downhill by ``step``, doubling it, until ``g``
    changes sign. Then Brent's method (inverse quadratic interpolation and
    secant steps, with bisection whenever they do not shrink the bracket
    fast enough) to the root of ``g`` within ``xtol``; after that it keeps
    yielding its final point. Points stay in [-700, 700] (eta finite).
    """
    direction = -math.copysign(1.0, g)
    while True:
        target = min(max(x + direction * step, -_X_MAX), _X_MAX)
        x_new, g_new = yield from _evaluate(x, target)
        step = 2 * abs(x_new - x)
        if g_new == 0 or (g_new > 0) != (g > 0):
            break
        x, g = x_new, g_new
    a, fa, b, fb = x, g, x_new, g_new
    c, fc = a, fa
    d = e = b - a
    while True:                      # Brent (1973), "zeroin"
        if (fb > 0) == (fc > 0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2 * _EPS * abs(b) + 0.5 * xtol
        xm = 0.5 * (c - b)
        if abs(xm) <= tol or fb == 0:
            while True:
                yield b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:               # secant
                p, q = 2 * xm * s, 1 - s
            else:                    # inverse quadratic interpolation
                q, r = fa / fc, fb / fc
                p = s * (2 * xm * q * (q - r) - (b - a) * (r - 1))
                q = (q - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            p = abs(p)
            if 2 * p < min(3 * xm * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = xm           # bisection
        else:
            d = e = xm               # bisection
        a, fa = b, fb
        b, fb = yield from _evaluate(
            a, a + (d if abs(d) > tol else math.copysign(tol, xm))
        )


class BracketingBrent:
    """Bracketing + Brent's method on ``g = dF/dx``, ``x = log eta``.

    ``lr`` is the first trial step in ``x`` (then doubled until the
    minimiser is bracketed). Only the sign and value of ``g`` are used: the
    log objective's minimiser is unique (quasi-convexity), so the sign says
    on which side of it a point lies, and the bracket never loses it.
    Converges to ``xtol`` = 1e-12 in ``log eta``, then stays there. Where the
    estimator fails at a trial point, the next trial is halfway back to the
    last point where it did not.
    """

    default_lr = 1.0
    xtol = 1e-12

    def __init__(self, lr):
        self.lr = lr
        self.search = None

    def step(self, theta, loss, grad):
        eta = float(theta)
        g = None if grad is None else eta * float(grad)
        if self.search is None:
            if g is None or g == 0.0 or eta <= 0.0:
                return theta
            self.search = _bracket_then_brent(math.log(eta), g, self.lr,
                                              self.xtol)
            x_new = next(self.search)
        else:
            x_new = self.search.send(g)
        return torch.exp(torch.full_like(theta, x_new))


class Adam:
    """Adam (Kingma and Ba 2015) on the clipped meta-gradient::

        g <- g * min(1, clip / ||g||)
        m <- b1 m + (1 - b1) g,    v <- b2 v + (1 - b2) g^2
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    with bias-corrected ``m_hat``, ``v_hat``. ``b1 = 0`` is RMSProp with
    bias correction (:class:`RMSProp`).
    """

    default_lr = 1e-3
    b1, b2, eps = 0.9, 0.999, 1e-8

    def __init__(self, lr, clip=1.0):
        self.lr, self.clip = lr, clip
        self.k = 0
        self.m = self.v = None

    def step(self, theta, loss, grad):
        if grad is None:
            return theta
        norm = float(grad.norm())
        if norm > self.clip:
            grad = grad * (self.clip / norm)
        if self.m is None:
            self.m, self.v = torch.zeros_like(grad), torch.zeros_like(grad)
        self.k += 1
        self.m = self.b1 * self.m + (1 - self.b1) * grad
        self.v = self.b2 * self.v + (1 - self.b2) * grad.square()
        m_hat = self.m / (1 - self.b1 ** self.k) if self.b1 else self.m
        v_hat = self.v / (1 - self.b2 ** self.k)
        return theta - self.lr * m_hat / (v_hat.sqrt() + self.eps)


class RMSProp(Adam):
    """RMSProp (decay 0.9) on the clipped meta-gradient: Adam with no
    momentum, the meta-optimizer of the paper's neural experiments."""

    default_lr = 1e-2
    b1, b2 = 0.0, 0.9


META_OPTIMIZERS = {"brent": BracketingBrent, "projected-gd": ProjectedGD,
                   "adam": Adam, "rmsprop": RMSProp}


def make_meta_optimizer(name, lr=None):
    """Meta-optimizer ``name`` with learning rate ``lr`` (None = default)."""
    cls = META_OPTIMIZERS[check_choice("meta_optimizer", name,
                                       META_OPTIMIZERS)]
    lr = check_optional_positive("meta_lr", lr)
    return cls(cls.default_lr if lr is None else lr)
