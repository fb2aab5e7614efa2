"""A coordinate-wise LSTM learned optimizer (Andrychowicz et al. 2016).

Every coordinate of every task is updated by the same small LSTM, with its
own hidden state, from its preprocessed gradient: with ``p = 10``,

    x = (log|g| / p, sign g)     if |g| >= e^-p,
    x = (-1, e^p g)              otherwise,

(the paper's preprocessing: the two channels carry the gradient's
magnitude on a log scale and its sign, bounded for any g). ``layers``
stacked LSTM cells of ``hidden`` units (the paper: 2 x 20) read ``x``; the
update is::

    w <- w - exp(log_lr) * (s . x + 0.1 * W_out h_top),

where the linear path ``s`` starts as ``(0, 1)``: untrained, the optimizer
is sign descent with step ``1e-2`` (for gradients above ``e^-p``), a sane
start, and the LSTM's output weights start small, as its forget gates'
biases start at 1 (Gers et al. 2000). ``theta`` holds the cells' weights,
the output layer, the linear path and ``log_lr``; it does not depend on
the network the optimizer is applied to. Non-finite gradients are zeroed
and counted (:func:`~.coordinatewise.sanitize`); the update is finite for
any input.

Cost per coordinate and step: ``4 hidden (inputs + hidden)`` multiply-adds
per layer, about 5,000 flops at 2 x 20, twice the per-coordinate MLP of
:mod:`.neural`.
"""

from dataclasses import dataclass
import math
from typing import NamedTuple

import torch

from .base import LearnableOptimizer, PreparedUpdate
from .coordinatewise import ThetaLayout, sanitize
from ..validation import check_int

_P = 10.0
_INPUTS = 2
_OUT_SCALE = 0.1
_INIT_LR = 1e-2


def preprocess(g):
    """(B, D, 2): the paper's two channels of the gradient ``g`` (B, D)."""
    big = g.abs() >= math.exp(-_P)
    log_mag = torch.where(big, torch.log(g.abs().clamp_min(1e-45)) / _P,
                          torch.full_like(g, -1.0))
    sign = torch.where(big, torch.sign(g), math.exp(_P) * g)
    return torch.stack([log_mag, sign], dim=-1)


class LSTMState(NamedTuple):
    hidden: tuple               # per layer: h (B, D, H)
    cell: tuple                 # per layer: c (B, D, H)
    nonfinite: torch.Tensor     # (B,)


@dataclass(frozen=True)
class LSTMOptimizer(PreparedUpdate, LearnableOptimizer):
    """The LSTM learned optimizer (module docstring)."""

    hidden: int = 20
    layers: int = 2

    def __post_init__(self):
        check_int("hidden", self.hidden)
        check_int("layers", self.layers)

    @property
    def theta_layout(self):
        H, parts = self.hidden, []
        for layer in range(self.layers):
            fan_in = _INPUTS if layer == 0 else H
            parts += [(f"W_ih{layer}", (fan_in, 4 * H)),
                      (f"W_hh{layer}", (H, 4 * H)), (f"b{layer}", (4 * H,))]
        return ThetaLayout(parts + [("W_out", (H,)), ("skip", (_INPUTS,)),
                                    ("log_lr", (1,))])

    def init_theta(self, gen=None, dtype=torch.float32):
        H = self.hidden

        def draw(name, shape):
            if name.startswith("W_ih") or name.startswith("W_hh"):
                return torch.randn(shape, generator=gen) / math.sqrt(shape[0])
            if name.startswith("b"):
                bias = torch.zeros(shape)
                bias[H:2 * H] = 1.0                 # forget gates
                return bias
            if name == "W_out":
                return 0.01 * torch.randn(shape, generator=gen)
            if name == "skip":
                return torch.tensor([0.0, 1.0])
            return torch.full(shape, math.log(_INIT_LR))      # log_lr

        return self.theta_layout.init(draw, dtype)

    def hyperparameters(self, theta):
        return {}

    def init(self, params):
        B, D = params.shape
        zeros = tuple(params.new_zeros(B, D, self.hidden)
                      for _ in range(self.layers))
        return LSTMState(zeros, zeros, params.new_zeros(B))

    def prepare(self, theta, params):
        """The cells' weights in the parameters' dtype, each layer's input
        and recurrent weights stacked (``[W_ih; W_hh]``) and split by gate
        (i, f, z, o): one product per gate gives that gate's
        pre-activation as a contiguous (N, H) block, on which the
        element-wise sigmoid and tanh run vectorised (on a column slice of
        one (N, 4 H) product they ran 5-10x slower on the CPU)."""
        p = self.theta_layout.unpack(theta.to(params.dtype))
        gates = []
        for layer in range(self.layers):
            W = torch.cat([p[f"W_ih{layer}"], p[f"W_hh{layer}"]])
            gates.append(tuple(zip(W.chunk(4, dim=1),
                                   p[f"b{layer}"].chunk(4))))
        return dict(p, gates=tuple(gates))

    def apply(self, params, grad, state, p):
        g, nonfinite = sanitize(grad, state.nonfinite)
        x = preprocess(g)
        B, D = params.shape
        inputs, hs, cs = x, [], []
        for layer, weights in enumerate(p["gates"]):
            # gates = [inputs, h] @ [W_ih; W_hh] + b, one gate at a time
            z_in = torch.cat([inputs, state.hidden[layer]], dim=-1)
            z_in = z_in.view(B * D, -1)
            i, f, z, o = (torch.addmm(b, z_in, W).view(B, D, -1)
                          for W, b in weights)
            c = (torch.sigmoid(f) * state.cell[layer]
                 + torch.sigmoid(i) * torch.tanh(z))
            h = torch.sigmoid(o) * torch.tanh(c)
            hs.append(h)
            cs.append(c)
            inputs = h
        direction = x @ p["skip"] + _OUT_SCALE * (inputs @ p["W_out"])
        step = torch.exp(p["log_lr"]) * direction
        return params - step, LSTMState(tuple(hs), tuple(cs), nonfinite)

    def diagnostics(self, state):
        """Mean count of non-finite gradient entries per task."""
        return dict(nonfinite_gradients=float(state.nonfinite.mean()))
