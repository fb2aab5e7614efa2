"""Meta-optimizers: ``theta_next = opt.step(theta, loss, grad)``.

``theta`` is a learnable optimizer's unconstrained meta-parameter vector
(``log eta`` for gradient descent). Each meta-optimizer has ``step(theta,
loss, grad) -> theta_next``, a ``default_lr`` used when the solver's
``meta_lr`` is None, and ``supports(optimizer, theta)``: whether it applies
to that optimizer. ``grad`` is None when the estimator failed at ``theta``
(a non-finite meta-loss or meta-gradient): each says what it does then.

- ``brent``: a safeguarded one-dimensional root finder on the
  meta-objective's derivative, for a scalar ``theta`` (in ``log eta`` for
  gradient descent). The log objective has a bounded derivative and a
  unique minimiser (paper Section 3: quasi-convex), so the sign of the
  derivative says on which side eta* lies; bracketing then Brent's method
  reach eta* to 1e-3 in a dozen or two meta-gradients from any start.
- ``projected-gd``: the paper's meta gradient descent on the step size of
  gradient descent, ``eta_{k+1} = max(eta_min, eta_k - meta_lr / sqrt(k)
  * F'(eta_k))``, k = 1, 2, ... (the paper uses meta_lr = 1/100 and
  projects on eta >= 0; ``log eta`` cannot hold 0, so the floor is
  ``eta_min = 1e-300``), kept for the reproduction.
- ``adam`` and ``rmsprop``: for any ``theta``, with the meta-gradient's
  norm clipped to ``clip`` (default 1) before the update; a failed
  meta-gradient leaves ``theta`` and the moment estimates unchanged.
"""

import math

import torch

from .optimizers.hand_designed import adam_init, adam_step
from .validation import check_choice, check_optional_positive

_EPS = 2.0 ** -52
_X_MAX = 700.0          # |log eta| bound: exp(700) ~ 1e304


class ProjectedGD:
    """``eta_{k+1} = max(eta_min, eta_k - lr / sqrt(k) * F'(eta_k))`` on
    plain gradient descent, through the optimizer's parametrisation:
    ``eta = optimizer.gd_step_size(theta)``, ``F'(eta) = (dF/dtheta) /
    (deta/dtheta)`` and ``theta_{k+1} = optimizer.theta_from(step_size=
    eta_{k+1})``.

    A failed meta-gradient counts as zero (eta stays), as the paper's
    TensorFlow baseline zeroes non-finite gradients.
    """

    default_lr = 0.01
    eta_min = 1e-300

    def __init__(self, lr, optimizer):
        self.lr, self.optimizer = lr, optimizer
        self.k = 0

    @staticmethod
    def supports(optimizer, theta):
        return optimizer.is_gradient_descent

    def step(self, theta, loss, grad):
        self.k += 1
        if grad is None:
            return theta
        theta_ = theta.detach().double().requires_grad_(True)
        eta = self.optimizer.gd_step_size(theta_)
        (slope,) = torch.autograd.grad(eta, theta_)      # deta / dtheta
        g_eta = float(grad) / float(slope)
        eta_next = max(self.eta_min, float(eta.detach())
                       - self.lr / math.sqrt(self.k) * g_eta)
        return self.optimizer.theta_from(step_size=eta_next).to(theta)


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
    """Bracketing + Brent's method on ``g = dF/dtheta`` for a scalar
    ``theta`` (``log eta`` for gradient descent).

    ``lr`` is the first trial step in ``theta`` (then doubled until the
    minimiser is bracketed). Only the sign and value of ``g`` are used: the
    log objective's minimiser is unique (quasi-convexity), so the sign says
    on which side of it a point lies, and the bracket never loses it.
    Converges to ``xtol`` = 1e-12 in ``theta``, then stays there. Where the
    estimator fails at a trial point, the next trial is halfway back to the
    last point where it did not. Points stay in [-700, 700].
    """

    default_lr = 1.0
    xtol = 1e-12

    def __init__(self, lr, optimizer=None):
        self.lr = lr
        self.search = None

    @staticmethod
    def supports(optimizer, theta):
        return theta.numel() == 1

    def step(self, theta, loss, grad):
        g = None if grad is None else float(grad)
        if self.search is None:
            if g is None or g == 0.0:
                return theta
            self.search = _bracket_then_brent(float(theta), g, self.lr,
                                              self.xtol)
            x_new = next(self.search)
        else:
            x_new = self.search.send(g)
        return torch.full_like(theta, x_new)


class Adam:
    """Adam (:func:`~benchmark_utils.optimizers.hand_designed.adam_step`,
    the one Adam of the benchmark) on the clipped meta-gradient::

        g <- g * min(1, clip / ||g||),   theta <- adam_step(theta, g)

    ``b1 = 0`` is RMSProp with bias correction (:class:`RMSProp`).
    """

    default_lr = 1e-3
    b1, b2, eps = 0.9, 0.999, 1e-8

    def __init__(self, lr, optimizer=None, clip=1.0):
        self.lr, self.clip = lr, clip
        self.state = None

    @staticmethod
    def supports(optimizer, theta):
        return True

    def step(self, theta, loss, grad):
        if grad is None:
            return theta
        norm = float(grad.norm())
        if norm > self.clip:
            grad = grad * (self.clip / norm)
        if self.state is None:
            self.state = adam_init(grad)
        theta, self.state = adam_step(theta, grad, self.state, self.lr,
                                      self.b1, self.b2, self.eps)
        return theta


class RMSProp(Adam):
    """RMSProp (decay 0.9) on the clipped meta-gradient: Adam with no
    momentum, the meta-optimizer of the paper's neural experiments."""

    default_lr = 1e-2
    b1, b2 = 0.0, 0.9


META_OPTIMIZERS = {"brent": BracketingBrent, "projected-gd": ProjectedGD,
                   "adam": Adam, "rmsprop": RMSProp}


def make_meta_optimizer(name, lr=None, optimizer=None):
    """Meta-optimizer ``name`` with learning rate ``lr`` (None = default)
    for the learnable ``optimizer``."""
    cls = META_OPTIMIZERS[check_choice("meta_optimizer", name,
                                       META_OPTIMIZERS)]
    lr = check_optional_positive("meta_lr", lr)
    return cls(cls.default_lr if lr is None else lr, optimizer)


def check_meta_optimizer(name, optimizer, theta):
    """ValueError naming ``meta_optimizer`` unless ``name`` applies to
    ``optimizer`` with meta-parameters shaped like ``theta``."""
    allowed = [key for key, cls in META_OPTIMIZERS.items()
               if cls.supports(optimizer, theta)]
    check_choice("meta_optimizer", name, META_OPTIMIZERS)
    if name not in allowed:
        raise ValueError(
            "parameter 'meta_optimizer' must be one of "
            + ", ".join(repr(key) for key in allowed)
            + f" for {type(optimizer).__name__} ({theta.numel()} "
            f"meta-parameters), got {name!r}"
        )
    return name
