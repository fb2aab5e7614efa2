"""A coordinate-wise learned optimizer (Metz et al. 2019, paper Section 5).

Every parameter coordinate of every task is updated by the same small MLP,
with meta-parameters ``theta`` (one flat vector), from per-coordinate
features:

- the gradient ``g`` and the parameter ``w``;
- for each decay ``beta`` in ``DECAYS``: momentum ``m_beta = beta m_beta +
  (1 - beta) g``, ``m_beta / sqrt(v_beta + eps)``, the second moment
  ``v_beta = beta v_beta + (1 - beta) g^2`` and ``1 / sqrt(v_beta + eps)``
  (in this order: the ``N_ODD = 12`` *odd* features ``g, w, m,
  m / sqrt(v)`` change sign when the parameters and the gradients do, the
  others are *even*);

each divided by its mean absolute value over the coordinates of its
parameter tensor (per task), so that the features' scale does not depend on
the network or on the gradients' magnitude, and clipped to [-10, 10] (heavy
tails, such as ``1 / sqrt(v)`` on coordinates whose gradient is always 0,
would otherwise dominate the outputs); and a step-number embedding
``tanh(min(k, T - 1) / tau)`` for ``tau`` in ``TIMESCALES``: 31 features
in all. ``T`` is ``horizon``, the horizon the optimizer is meta-trained
for (None: no bound; the solvers bind it, :meth:`NeuralOptimizer.
for_horizon`): past it the step features keep their last meta-trained
value instead of taking values meta-training never showed the network
(measured: meta-trained at T = 100 and run for 1000 steps, the unbounded
optimizer's training loss climbed back toward chance after step ~150).

The network (:func:`~.coordinatewise.mlp_step`): one hidden layer of
``hidden`` ReLU units and two outputs, a direction ``d`` and a magnitude
``s``, plus a linear path from the features to the outputs; the update
is::

    w <- w - exp(log_lr) * d * exp(S tanh(s / S)),      S = 10

(the exponent bounded so that the update stays finite). The network is
*sign-equivariant* (``mlp_step``'s ``n_odd``): ``d`` is odd and ``s``
even in the odd features, so run on ``f(-w)`` from ``-w_0`` the optimizer
takes exactly the opposite steps, as gradient descent, momentum and Adam
do. Without it, meta-training learned a *drift*, a part of the step that
does not change sign with the gradient (from ``1 / sqrt(v)`` or the step
features), which lowers the meta-loss of short segments and moves every
coordinate the same way at every step, and made the meta-trained
optimizer worse than its start on held-out tasks.

Initialisation (``start="adam"``, the default) makes the untrained
optimizer a sane one: the linear path maps the normalised ``m_0.9 /
sqrt(v_0.9)`` feature to ``d`` (an Adam-like step), the MLP's output
weights are small, and ``log_lr = log(1e-3)``, the scale of Metz et al.'s
updates. ``start="paper"`` is Metz et al.'s optimizer as the paper's
Section 5 runs it (:func:`~.coordinatewise.paper_init`, ``mlp_step``'s
``paper``): both layers drawn ``N(0, 1 / fan_in)``, no linear path, the
step ``0.001 d exp(0.001 m)``: the untrained optimizer takes steps of
about 1e-3 in a random function of the features, and meta-training has
everything to learn (the features and the symmetry stay this module's).
Measured on the small-data tasks of ``configs/paper_mlp.yml``
(train-by-validation, repetition 0): the untrained optimizer's steps,
odd in ``w`` too, inflate the weights (test cross-entropy 629), 20
meta-steps bring it to 0.50. Weights the symmetry does not use (the
linear path from even features to ``d`` and from odd ones to ``s``,
``d``'s bias) keep their initial value: their meta-gradient is 0.

Non-finite gradient entries (overflow upstream, NaN) are replaced by 0
before they reach the features, and counted per task in the state
(:meth:`NeuralOptimizer.diagnostics`); finite ones are clipped to
``|g| <= 1e15`` so that second moments and their means stay inside
float32's range. The update stays finite for any input.
"""

from dataclasses import dataclass, replace
from typing import NamedTuple

import torch

from .base import LearnableOptimizer, PreparedUpdate, sizes_of
from .coordinatewise import (
    ThetaLayout, constants, finite_clipped, head_init, head_parts, mlp_step,
    paper_init, per_tensor_scale, sanitize,
)
from ..validation import check_choice, check_int

DECAYS = (0.5, 0.9, 0.99, 0.999, 0.9999)
TIMESCALES = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000)
N_FEATURES = 2 + 4 * len(DECAYS) + len(TIMESCALES)
N_ODD = 2 + 2 * len(DECAYS)     # g, w, m, m / sqrt(v): the odd features
_EPS = 1e-8
_INIT_LR = 1e-3
_FEATURE_BOUND = 10.0
_ADAM_FEATURE = 2 + len(DECAYS) + DECAYS.index(0.9)     # m/sqrt(v), 0.9
#: the optimizer's starts (the solver's parameter ``init``)
STARTS = ("adam", "paper")


class NeuralState(NamedTuple):
    m: torch.Tensor             # (B, D, len(DECAYS))
    v: torch.Tensor             # (B, D, len(DECAYS))
    step: int
    nonfinite: torch.Tensor     # (B,) non-finite gradient entries seen


def check_horizon(horizon):
    """None, or an integer >= 1 (ValueError naming ``horizon``)."""
    return None if horizon is None else check_int("horizon", horizon)


@dataclass(frozen=True)
class NeuralOptimizer(PreparedUpdate, LearnableOptimizer):
    """The learned optimizer with ``hidden`` units, applied to parameter
    rows made of tensors of sizes ``segments`` (flattened, in order; None =
    one tensor), meta-trained for ``horizon`` steps (its step features stop
    there; None: never). ``theta`` does not depend on the layout: the
    unroll binds the optimizer to the tasks' layout (:meth:`for_layout`),
    so the same ``theta`` applies to networks of any shape. ``start``:
    the initialisation and step parametrisation, one of :data:`STARTS`
    (see the module docstring)."""

    hidden: int = 32
    segments: tuple | None = None
    horizon: int | None = None
    start: str = "adam"

    def __post_init__(self):
        check_int("hidden", self.hidden)
        check_horizon(self.horizon)
        check_choice("init", self.start, STARTS)

    def for_layout(self, layout):
        segments = sizes_of(layout)
        if segments == self.segments:
            return self
        return replace(self, segments=segments)

    def for_horizon(self, horizon):
        """The optimizer meta-trained for ``horizon`` steps."""
        return replace(self, horizon=horizon)

    def hyperparameters(self, theta):
        return {}

    @property
    def theta_layout(self):
        return ThetaLayout(head_parts(N_FEATURES - len(TIMESCALES),
                                      len(TIMESCALES), self.hidden))

    def shapes(self):
        """Names and shapes of theta's parts, in order."""
        return self.theta_layout.parts

    def unpack(self, theta):
        return self.theta_layout.unpack(theta)

    def init_theta(self, gen=None, dtype=torch.float32):
        """The initial theta described in the module docstring."""
        draw = (paper_init(gen) if self.start == "paper"
                else head_init(gen, _ADAM_FEATURE, _INIT_LR))
        return self.theta_layout.init(draw, dtype)

    def init(self, params):
        B, D = params.shape
        zeros = params.new_zeros(B, D, len(DECAYS))
        return NeuralState(zeros, zeros, 0, params.new_zeros(B))

    def features(self, params, grad, state):
        """Per-coordinate features (B, D, 22), the ``N_ODD`` odd ones first
        (see the module docstring), the step-number features (9,), shared
        by all coordinates, and the updated state."""
        g, nonfinite = sanitize(grad, state.nonfinite)
        beta = constants(DECAYS, params.dtype, params.device)
        m = beta * state.m + (1 - beta) * g.unsqueeze(-1)
        v = beta * state.v + (1 - beta) * g.square().unsqueeze(-1)
        rsqrt = torch.rsqrt(v + _EPS)
        w = finite_clipped(params)
        raw = torch.cat([g.unsqueeze(-1), w.unsqueeze(-1), m, m * rsqrt, v,
                         rsqrt], dim=-1)
        coords = per_tensor_scale(raw, self.segments).clamp(
            -_FEATURE_BOUND, _FEATURE_BOUND)
        tau = constants(TIMESCALES, params.dtype, params.device)
        step = (state.step if self.horizon is None
                else min(state.step, self.horizon - 1))
        time = torch.tanh(float(step) / tau)
        return coords, time, NeuralState(m, v, state.step + 1, nonfinite)

    def prepare(self, theta, params):
        """The network's weights, in the parameters' dtype."""
        return self.unpack(theta.to(params.dtype))

    def apply(self, params, grad, state, p):
        coords, time, state = self.features(params, grad, state)
        step = mlp_step(coords, time, p, n_odd=N_ODD,
                        paper=self.start == "paper")
        return params - step, state

    def diagnostics(self, state):
        """Mean count of non-finite gradient entries per task."""
        return dict(nonfinite_gradients=float(state.nonfinite.mean()))
