"""The inner-optimizer contract: update rules with explicit state.

An inner optimizer is a pair of pure functions over explicit state,
optax-style, batched over tasks::

    state = opt.init(params)
    params, state = opt.update(params, grad, state, theta)

``params`` and ``grad`` are (B, d), one row per task; ``theta`` holds the
rule's meta-parameters. ``update`` casts ``theta`` (or what it computes
from it) to the parameters' dtype itself, differentiably, so that autograd
and forward mode can differentiate an unrolled run with respect to a
float64 ``theta`` on float32 tasks.

Two kinds:

- :class:`InnerOptimizer`: any rule; a reference's ``theta`` holds its
  fixed hyper-parameters (or nothing).
- :class:`LearnableOptimizer`: a rule whose ``theta`` meta-training learns.
  It owns its parametrisation: ``theta`` is unconstrained (every finite
  vector is a valid optimizer; e.g. ``log eta`` for gradient descent,
  ``logit beta`` for a momentum), :meth:`~LearnableOptimizer.init_theta`
  gives the start, :meth:`~LearnableOptimizer.hyperparameters` reads the
  natural values back (reported as metrics) and
  :meth:`~LearnableOptimizer.theta_from` maps natural values to ``theta``
  (for grid searches and fixed choices).

Optional members, with their defaults here:

- ``needs_loss = False``: with True, ``update`` also receives ``loss=`` the
  (B,) values ``tasks.inner_loss(w, k)`` (Polyak's step needs them);
- ``finalize(params, state)``: the point a run is evaluated at (default:
  the last iterate; schedule-free: its average);
- ``diagnostics(state)``: extra plain-float metrics of a finished run;
- ``for_layout(layout)``: the optimizer for tasks whose parameter rows are
  made of tensors of shapes ``layout`` (default: itself; the neural
  optimizers normalise their features per tensor, the factored one keeps
  row and column moments of matrices);
- ``for_horizon(horizon)``: the optimizer meta-trained for ``horizon``
  inner steps (default: itself; the MLP learned optimizer stops its
  step-number features there), bound by the meta-learning solvers;
- ``is_gradient_descent`` / ``gd_step_size(theta)``: the rule is plain
  ``w - eta g`` with a scalar step (the exact paths of linear tasks apply);
- ``prepare(theta, params)`` and ``apply(params, grad, state, prepared)``:
  the update split into what it computes from ``theta`` alone (natural
  hyper-parameters, a network's weights in the parameters' dtype) and the
  step itself, ``update(params, grad, state, theta) == apply(params, grad,
  state, prepare(theta, params))``. The inner loop
  (:func:`~benchmark_utils.unroll.run_steps`) prepares once per run of
  steps, so that those operations are neither repeated T times nor
  recorded T times in the autograd graph (Adam on a 20-dimensional
  quadratic: 203 -> 75 us per step without gradients, 438 -> 370 us
  with backprop; docs/performance.md). Default:
  ``prepare`` returns ``theta`` and ``apply`` is ``update``; a rule opts in
  with :class:`PreparedUpdate`.
"""

from abc import ABC, abstractmethod
import math

import torch


def sizes_of(layout):
    """The sizes of the tensors of shapes ``layout``."""
    return tuple(math.prod(shape) for shape in layout)


class InnerOptimizer(ABC):
    """An update rule with explicit state (see the module docstring)."""

    needs_loss = False
    is_gradient_descent = False

    @abstractmethod
    def init(self, params):
        """The state before the first step, for parameters ``params``."""

    @abstractmethod
    def update(self, params, grad, state, theta):
        """One step: ``(new params, new state)``."""

    def finalize(self, params, state):
        """The point a finished run is evaluated at."""
        return params

    def diagnostics(self, state):
        """Extra metrics of a finished run (plain floats)."""
        return {}

    def for_layout(self, layout):
        """This optimizer for parameter rows made of tensors of shapes
        ``layout`` (a tuple of tuples whose sizes sum to d)."""
        return self

    def for_horizon(self, horizon):
        """This optimizer, meta-trained for ``horizon`` inner steps."""
        return self

    def gd_step_size(self, theta):
        """The step ``eta`` (a 0-d tensor, differentiable in ``theta``) of
        plain gradient descent; only where :attr:`is_gradient_descent`."""
        raise NotImplementedError(
            f"{type(self).__name__} is not plain gradient descent")

    def hyperparameters(self, theta):
        """Natural values of ``theta`` reported as metrics (plain floats);
        none for a reference whose ``theta`` is fixed."""
        return {}

    def prepare(self, theta, params):
        """What :meth:`update` computes from ``theta`` alone, for
        parameters like ``params`` (their dtype and device); the inner loop
        computes it once per run of steps and hands it to :meth:`apply`.
        Default: ``theta`` itself."""
        return theta

    def apply(self, params, grad, state, prepared, **kwargs):
        """One step given ``prepared = prepare(theta, params)``; equal to
        ``update(params, grad, state, theta)``. Default: :meth:`update`."""
        return self.update(params, grad, state, prepared, **kwargs)


class PreparedUpdate:
    """Mixin (first among the bases) for a rule that implements
    :meth:`~InnerOptimizer.prepare` and :meth:`~InnerOptimizer.apply`:
    its ``update`` is their composition."""

    def update(self, params, grad, state, theta, **kwargs):
        return self.apply(params, grad, state, self.prepare(theta, params),
                          **kwargs)


class LearnableOptimizer(InnerOptimizer):
    """An inner optimizer whose unconstrained ``theta`` is meta-learned."""

    @abstractmethod
    def init_theta(self, gen=None, dtype=torch.float64):
        """The initial ``theta`` (a 1-d or 0-d tensor). ``gen`` seeds a
        random initialisation; ``dtype`` is the tasks' dtype (optimizers
        with a few scalar meta-parameters keep float64)."""

    @abstractmethod
    def hyperparameters(self, theta):
        """Natural values of ``theta`` (plain floats), e.g.
        ``{"step_size": eta}``; +inf where one is not finite."""

    def theta_from(self, **values):
        """``theta`` for the natural values ``values`` (the others at their
        initial values); ValueError where the optimizer has no such
        parametrisation."""
        raise ValueError(
            f"{type(self).__name__} has no natural parametrisation to set")


# -- parametrisations ------------------------------------------------------

def positive(u):
    """``exp(u)``: an unconstrained coordinate to a value > 0."""
    return torch.exp(u)


def unit_interval(u):
    """``sigmoid(u)``: an unconstrained coordinate to a value in (0, 1)."""
    return torch.sigmoid(u)


def log_of(x):
    """The coordinate of ``x >= 0`` under :func:`positive` (-inf for 0).
    ``exp(log x)`` can differ from ``x`` by an ulp (the float64 values of
    ``exp`` are sparser than those of x): a step size set through
    ``theta_from`` runs, and is reported, to 1e-16 relative."""
    return -math.inf if x == 0 else math.log(x)


def logit_of(p):
    """The coordinate of ``p`` in (0, 1) under :func:`unit_interval`."""
    return math.log(p / (1.0 - p))


def safe_sqrt(x):
    """``sqrt(x)`` for ``x >= 0`` with a finite derivative at 0.

    The derivative of ``sqrt`` at 0 is infinite, and a coordinate whose
    gradient is exactly 0 (a dead ReLU) makes a second moment exactly 0:
    backprop through ``v.sqrt()`` then multiplies inf by 0 and the
    meta-gradient is NaN (the failure users of higher and torchopt report).
    Here the forward values are ``x.sqrt()``'s exactly and the derivative at
    0 is 0.
    """
    positive_part = x > 0
    return torch.where(positive_part,
                       torch.where(positive_part, x, 1.0).sqrt(), 0.0)


def reported(x):
    """A hyper-parameter as a metric: a plain float, +inf where NaN (a NaN
    in a result column would hide the failure in tables and plots)."""
    x = float(x)
    return math.inf if math.isnan(x) else x
