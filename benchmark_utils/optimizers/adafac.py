"""A per-parameter MLP learned optimizer fed with factored second moments,
in the spirit of learned_optimization's ``AdafacMLPLOpt`` (Metz et al.
2022).

Second moments are kept factored, as in Adafactor (Shazeer and Stern
2018): for a weight matrix ``W`` (r x c) only a row and a column
accumulator, ``R <- b R + (1 - b) mean_j g_ij^2`` and ``C <- b C + (1 - b)
mean_i g_ij^2``, and ``v_ij = R_i C_j / mean_i R_i``; a vector (a bias)
keeps its full ``v``. Per coordinate, for momentum decays ``MOMENTA`` and
second-moment decays ``SECONDS`` (``r_k = 1 / sqrt(v_k + eps)``), the
features are::

    odd:  g, w, m_a for a in MOMENTA, g r_k and m_0.9 r_k for k in SECONDS
    even: r_k for k in SECONDS

10 features (the per-coordinate MLP of :mod:`.neural` has 22, plus full
second moments at 5 decays: 5 D floats of state where this keeps 2 D of
momenta and ``2 (r + c)`` per matrix), each divided by its mean absolute
value over its parameter tensor and clipped to +-10, and ``tanh(k / tau)``
for ``tau`` in ``TIMESCALES``. The step is that of
:func:`~.coordinatewise.mlp_step` (sign-equivariant: it changes sign with
the gradient). Untrained, the linear path maps ``m_0.9 r_0.999`` to the
direction: Adam with factored second moments and step 1e-3. The layout of
the tasks it runs on (the shapes of their parameter tensors) tells which
tensors are matrices: ``theta`` does not depend on it.
"""

from dataclasses import dataclass
import math
from typing import NamedTuple

import torch

from .base import LearnableOptimizer, PreparedUpdate
from .coordinatewise import (
    ThetaLayout, constants, finite_clipped, head_init, head_parts, mlp_step,
    per_tensor_scale, sanitize,
)
from ..validation import check_int

MOMENTA = (0.9, 0.99)
SECONDS = (0.99, 0.999)
TIMESCALES = (10, 100, 1000)
N_ODD = 2 + len(MOMENTA) + 2 * len(SECONDS)
N_FEATURES = N_ODD + len(SECONDS)
_EPS = 1e-8
_FEATURE_BOUND = 10.0
_INIT_LR = 1e-3
_ADAM_FEATURE = 2 + len(MOMENTA) + 2 * SECONDS.index(0.999) + 1


class AdafacState(NamedTuple):
    m: torch.Tensor             # (B, D, len(MOMENTA))
    moments: tuple              # per tensor: (R, C) or (v,), (B, ., K)
    step: int
    nonfinite: torch.Tensor     # (B,)


@dataclass(frozen=True)
class AdafacOptimizer(PreparedUpdate, LearnableOptimizer):
    """The factored per-parameter MLP optimizer (module docstring) with
    ``hidden`` units, bound to parameter tensors of shapes ``layout``."""

    hidden: int = 16
    layout: tuple | None = None

    def __post_init__(self):
        check_int("hidden", self.hidden)

    def for_layout(self, layout):
        layout = tuple(tuple(int(n) for n in shape) for shape in layout)
        return self if layout == self.layout else AdafacOptimizer(
            self.hidden, layout)

    @property
    def theta_layout(self):
        return ThetaLayout(head_parts(N_FEATURES, len(TIMESCALES),
                                      self.hidden))

    def init_theta(self, gen=None, dtype=torch.float32):
        return self.theta_layout.init(
            head_init(gen, _ADAM_FEATURE, _INIT_LR), dtype)

    def hyperparameters(self, theta):
        return {}

    def _shapes(self, D):
        return self.layout or ((D,),)

    def init(self, params):
        B, D = params.shape
        K = len(SECONDS)
        moments = []
        for shape in self._shapes(D):
            if len(shape) == 2:
                moments.append((params.new_zeros(B, shape[0], K),
                                params.new_zeros(B, shape[1], K)))
            else:
                moments.append((params.new_zeros(B, math.prod(shape), K),))
        return AdafacState(params.new_zeros(B, D, len(MOMENTA)),
                           tuple(moments), 0, params.new_zeros(B))

    def _rsqrt(self, g, moments):
        """``1 / sqrt(v + eps)`` (B, D, K) from the updated factored
        moments, and the moments."""
        B = g.shape[0]
        beta = torch.tensor(SECONDS, dtype=g.dtype, device=g.device)
        shapes = self._shapes(g.shape[1])
        parts = torch.split(g, [math.prod(s) for s in shapes], dim=1)
        out, new = [], []
        for part, shape, acc in zip(parts, shapes, moments):
            sq = part.square()
            if len(shape) == 2:
                sq = sq.view(B, *shape)
                R = beta * acc[0] + (1 - beta) * sq.mean(2)[..., None]
                C = beta * acc[1] + (1 - beta) * sq.mean(1)[..., None]
                v = (R[:, :, None] * C[:, None]
                     / (R.mean(1)[:, None, None] + _EPS))
                out.append(v.reshape(B, -1, len(SECONDS)))
                new.append((R, C))
            else:
                v = beta * acc[0] + (1 - beta) * sq[..., None]
                out.append(v)
                new.append((v,))
        return torch.rsqrt(torch.cat(out, dim=1) + _EPS), tuple(new)

    def prepare(self, theta, params):
        """The network's weights, in the parameters' dtype."""
        return self.theta_layout.unpack(theta.to(params.dtype))

    def apply(self, params, grad, state, p):
        g, nonfinite = sanitize(grad, state.nonfinite)
        beta = constants(MOMENTA, g.dtype, g.device)
        m = beta * state.m + (1 - beta) * g.unsqueeze(-1)
        r, moments = self._rsqrt(g, state.moments)
        w = finite_clipped(params)
        raw = torch.cat([g.unsqueeze(-1), w.unsqueeze(-1), m,
                         torch.stack([g.unsqueeze(-1) * r,
                                      m[..., :1] * r], dim=-1).flatten(-2),
                         r], dim=-1)
        segments = tuple(math.prod(s) for s in self._shapes(g.shape[1]))
        coords = per_tensor_scale(raw, segments)
        coords = coords.clamp(-_FEATURE_BOUND, _FEATURE_BOUND)
        tau = constants(TIMESCALES, g.dtype, g.device)
        time = torch.tanh(float(state.step) / tau)
        step = mlp_step(coords, time, p, n_odd=N_ODD)
        new = AdafacState(m, moments, state.step + 1, nonfinite)
        return params - step, new

    def diagnostics(self, state):
        """Mean count of non-finite gradient entries per task."""
        return dict(nonfinite_gradients=float(state.nonfinite.mean()))
