"""A coordinate-wise learned optimizer (Metz et al. 2019, paper Section 5).

Every parameter coordinate of every task is updated by the same small MLP,
with meta-parameters ``theta`` (one flat vector), from per-coordinate
features:

- the gradient ``g`` and the parameter ``w``;
- for each decay ``beta`` in ``DECAYS``: momentum ``m_beta = beta m_beta +
  (1 - beta) g``, second moment ``v_beta = beta v_beta + (1 - beta) g^2``,
  ``m_beta / sqrt(v_beta + eps)`` and ``1 / sqrt(v_beta + eps)``;

each divided by its mean absolute value over the coordinates of its
parameter tensor (per task), so that the features' scale does not depend on
the network or on the gradients' magnitude, and clipped to [-10, 10] (heavy
tails, such as ``1 / sqrt(v)`` on coordinates whose gradient is always 0,
would otherwise dominate the outputs); and a step-number embedding
``tanh(k / tau)`` for ``tau`` in ``TIMESCALES``: 31 features in all.

The network: one hidden layer of ``hidden`` ReLU units and two outputs,
a direction ``d`` and a magnitude ``s``, plus a linear path from the
features to the outputs; the update is::

    w <- w - exp(log_lr) * d * exp(S tanh(s / S)),      S = 10

(the exponent bounded so that the update stays finite). Initialisation
makes the untrained optimizer a sane one: the linear path maps the
normalised ``m_0.9 / sqrt(v_0.9)`` feature to ``d`` (an Adam-like step),
the MLP's output weights are small, and ``log_lr = log(1e-3)``, the scale
of Metz et al.'s updates.

Non-finite gradient entries (overflow upstream, NaN) are replaced by 0
before they reach the features, and counted per task in the state
(:meth:`NeuralOptimizer.diagnostics`); finite ones are clipped to
``|g| <= 1e15`` so that second moments and their means stay inside
float32's range. The update stays finite for any input.
"""

from dataclasses import dataclass
import math
from typing import NamedTuple

import torch

from .base import LearnableOptimizer, sizes_of
from .coordinatewise import segment_index
from ..validation import check_int

DECAYS = (0.5, 0.9, 0.99, 0.999, 0.9999)
TIMESCALES = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000)
N_FEATURES = 2 + 4 * len(DECAYS) + len(TIMESCALES)
_EPS = 1e-8
_GRAD_BOUND = 1e15
_TINY = 1e-30           # guards 0 / 0 for a feature that is 0 everywhere
_MAG_BOUND = 10.0
_INIT_LR = 1e-3
_MLP_SCALE = 0.1
_FEATURE_BOUND = 10.0
_ADAM_FEATURE = 2 + 2 * len(DECAYS) + DECAYS.index(0.9)   # m/sqrt(v), 0.9


# the coordinate-wise learned optimizers' one segment index (its output
# size is static, so that torch.compile traces the update without a break)
_segment_index = segment_index


class NeuralState(NamedTuple):
    m: torch.Tensor             # (B, D, len(DECAYS))
    v: torch.Tensor             # (B, D, len(DECAYS))
    step: int
    nonfinite: torch.Tensor     # (B,) non-finite gradient entries seen


@dataclass(frozen=True)
class NeuralOptimizer(LearnableOptimizer):
    """The learned optimizer with ``hidden`` units, applied to parameter
    rows made of tensors of sizes ``segments`` (flattened, in order; None =
    one tensor). ``theta`` does not depend on the layout: the unroll binds
    the optimizer to the tasks' layout (:meth:`for_layout`), so the same
    ``theta`` applies to networks of any shape."""

    hidden: int = 32
    segments: tuple | None = None

    def __post_init__(self):
        check_int("hidden", self.hidden)

    def for_layout(self, layout):
        segments = sizes_of(layout)
        if segments == self.segments:
            return self
        return NeuralOptimizer(self.hidden, segments)

    def hyperparameters(self, theta):
        return {}

    def shapes(self):
        """Names and shapes of theta's parts, in order."""
        F, H = N_FEATURES, self.hidden
        return [("W1", (F, H)), ("b1", (H,)), ("W2", (H, 2)), ("b2", (2,)),
                ("skip", (F, 2)), ("log_lr", (1,))]

    def unpack(self, theta):
        parts, start = {}, 0
        for name, shape in self.shapes():
            size = math.prod(shape)
            parts[name] = theta[start:start + size].view(shape)
            start += size
        return parts

    def init_theta(self, gen=None, dtype=torch.float32):
        """The initial theta described in the module docstring."""
        parts = []
        for name, shape in self.shapes():
            if name == "W1":
                p = torch.randn(shape, generator=gen) / math.sqrt(shape[0])
            elif name == "W2":
                p = 0.01 * torch.randn(shape, generator=gen)
            elif name == "skip":
                p = torch.zeros(shape)
                p[_ADAM_FEATURE, 0] = 1.0
            elif name == "log_lr":
                p = torch.full(shape, math.log(_INIT_LR))
            else:
                p = torch.zeros(shape)
            parts.append(p.flatten())
        return torch.cat(parts).to(dtype)

    def init(self, params):
        B, D = params.shape
        zeros = params.new_zeros(B, D, len(DECAYS))
        return NeuralState(zeros, zeros, 0, params.new_zeros(B))

    def features(self, params, grad, state):
        """Per-coordinate features (B, D, 22), the step-number features
        (9,), shared by all coordinates, and the updated state."""
        finite = torch.isfinite(grad)
        nonfinite = state.nonfinite + (~finite).sum(-1).to(params.dtype)
        g = torch.where(finite, grad, torch.zeros_like(grad)).clamp(
            -_GRAD_BOUND, _GRAD_BOUND)
        beta = torch.tensor(DECAYS, dtype=params.dtype, device=params.device)
        m = beta * state.m + (1 - beta) * g.unsqueeze(-1)
        v = beta * state.v + (1 - beta) * g.square().unsqueeze(-1)
        rsqrt = torch.rsqrt(v + _EPS)
        w = torch.where(torch.isfinite(params), params,
                        torch.zeros_like(params)).clamp(-_GRAD_BOUND,
                                                        _GRAD_BOUND)
        raw = torch.cat([g.unsqueeze(-1), w.unsqueeze(-1), m, v, m * rsqrt,
                         rsqrt], dim=-1)
        # mean |feature| per (task, parameter tensor), spread back to the
        # coordinates by one gather (no per-tensor copies)
        segments = self.segments or (raw.shape[1],)
        means = torch.stack([part.abs().mean(1) for part in
                             torch.split(raw, segments, dim=1)], dim=1)
        index = _segment_index(segments, raw.device)
        coords = raw / (means + _TINY)[:, index]
        coords = coords.clamp(-_FEATURE_BOUND, _FEATURE_BOUND)
        tau = torch.tensor(TIMESCALES, dtype=params.dtype,
                           device=params.device)
        time = torch.tanh(float(state.step) / tau)
        return coords, time, NeuralState(m, v, state.step + 1, nonfinite)

    def update(self, params, grad, state, theta):
        coords, time, state = self.features(params, grad, state)
        p = self.unpack(theta.to(params.dtype))
        n = coords.shape[-1]        # the step features enter as biases
        W1, skip = p["W1"], p["skip"]
        hidden = torch.relu(coords @ W1[:n] + (p["b1"] + time @ W1[n:]))
        out = (_MLP_SCALE * (hidden @ p["W2"] + p["b2"]) + coords @ skip[:n]
               + time @ skip[n:])
        direction, magnitude = out[..., 0], out[..., 1]
        scale = torch.exp(_MAG_BOUND * torch.tanh(magnitude / _MAG_BOUND))
        step = torch.exp(p["log_lr"]) * direction * scale
        return params - step, state

    def diagnostics(self, state):
        """Mean count of non-finite gradient entries per task."""
        return dict(nonfinite_gradients=float(state.nonfinite.mean()))
