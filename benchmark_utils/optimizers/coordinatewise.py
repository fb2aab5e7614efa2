"""What the coordinate-wise learned optimizers share.

- :class:`ThetaLayout`: a learned optimizer's ``theta`` is one flat vector
  made of named parts (weight matrices, biases, a log learning rate);
  ``unpack`` gives views of the parts, ``init`` draws the start part by
  part.
- :func:`sanitize`: non-finite gradient entries (overflow upstream, NaN)
  are replaced by 0 and counted per task; finite ones are clipped to
  ``|g| <= 1e15`` so that second moments and their means stay inside
  float32's range. Every learned optimizer's update is then finite for
  any input.
- :func:`finite_clipped`: the same for the parameters, uncounted;
  :func:`constants`: a feature's fixed decays or timescales as a tensor,
  made once per dtype and device;
- :func:`per_tensor_scale`: a feature divided by its mean absolute value
  over the coordinates of each parameter tensor (per task), so that the
  features' scale does not depend on the network or on the gradients'
  magnitude.
- :func:`mlp_step` and :func:`head_parts`: the per-coordinate MLP of
  Metz et al. (2019) that turns features into a step, ``direction *
  exp(S tanh(magnitude / S))`` scaled by ``exp(log_lr)``, optionally
  sign-equivariant; with ``paper=True``, Metz et al.'s own step
  ``0.001 d exp(0.001 m)`` (:func:`paper_init` starts it as they do).
"""

from functools import lru_cache
import math

import torch

GRAD_BOUND = 1e15
TINY = 1e-30            # guards 0 / 0 for a feature that is 0 everywhere


class ThetaLayout:
    """Named parts ``[(name, shape), ...]`` of a flat ``theta``."""

    def __init__(self, parts):
        self.parts = list(parts)

    @property
    def size(self):
        return sum(math.prod(shape) for _, shape in self.parts)

    def unpack(self, theta):
        """{name: view of theta with the part's shape}."""
        out, start = {}, 0
        for name, shape in self.parts:
            size = math.prod(shape)
            out[name] = theta[start:start + size].view(shape)
            start += size
        return out

    def init(self, draw, dtype):
        """``theta`` from ``draw(name, shape) -> tensor`` for each part."""
        return torch.cat([draw(name, shape).reshape(-1)
                          for name, shape in self.parts]).to(dtype)


def sanitize(grad, nonfinite):
    """``(g, nonfinite)``: ``grad`` with non-finite entries set to 0 and
    clipped to ``GRAD_BOUND``, and the per-task count of non-finite
    entries added to ``nonfinite`` (B,)."""
    finite = torch.isfinite(grad)
    count = nonfinite + (~finite).sum(-1).to(nonfinite.dtype)
    g = torch.where(finite, grad, torch.zeros_like(grad))
    return g.clamp(-GRAD_BOUND, GRAD_BOUND), count


def finite_clipped(x):
    """``x`` with non-finite entries set to 0 and clipped to
    ``GRAD_BOUND`` (:func:`sanitize`'s values, without the count)."""
    return torch.nan_to_num(x, 0.0, 0.0, 0.0).clamp(-GRAD_BOUND, GRAD_BOUND)


@lru_cache(maxsize=16)
def constants(values, dtype, device):
    """``torch.tensor(values)`` in ``dtype`` on ``device``, made once (a
    learned optimizer's decays and timescales, read at every step)."""
    return torch.tensor(values, dtype=dtype, device=device)


@lru_cache(maxsize=16)
def segment_index(segments, device):
    """(D,) the parameter tensor each coordinate belongs to."""
    sizes = torch.tensor(segments, device=device)
    # output_size: a shape torch.compile knows without reading ``sizes``
    return torch.repeat_interleave(
        torch.arange(len(segments), device=device), sizes,
        output_size=sum(segments))


def per_tensor_scale(raw, segments):
    """``raw`` (B, D, F) divided, feature by feature, by its mean absolute
    value over each parameter tensor of sizes ``segments`` (per task),
    spread back to the coordinates by one gather."""
    if not segments or len(segments) == 1:          # one tensor: no gather
        return raw / (raw.abs().mean(1, keepdim=True) + TINY)
    means = torch.stack([part.abs().mean(1) for part in
                         torch.split(raw, segments, dim=1)], dim=1)
    return raw / (means + TINY)[:, segment_index(segments, raw.device)]


MLP_SCALE = 0.1         # the hidden layer's outputs start small
MAG_BOUND = 10.0        # |exponent of the step's magnitude| <= 10
PAPER_STEP = 1e-3       # Metz et al.'s step: PAPER_STEP d exp(PAPER_EXP m)
PAPER_EXP = 1e-3


def head_parts(n_features, n_time, hidden):
    """The named parts of :func:`mlp_step`'s weights: a hidden layer from
    the per-coordinate and the step-number features, two outputs, a linear
    path from the features to the outputs, ``log_lr``."""
    F = n_features + n_time
    return [("W1", (F, hidden)), ("b1", (hidden,)), ("W2", (hidden, 2)),
            ("b2", (2,)), ("skip", (F, 2)), ("log_lr", (1,))]


def head_init(gen, adam_feature, init_lr):
    """``draw(name, shape)`` of :meth:`ThetaLayout.init` for the parts of
    :func:`head_parts`: ``W1 ~ N(0, 1 / fan_in)`` (seeded by ``gen``),
    ``W2 ~ N(0, 0.01^2)``, the linear path mapping feature
    ``adam_feature`` to the direction (an Adam-like start), ``log_lr =
    log init_lr``, the biases 0."""
    def draw(name, shape):
        if name == "W1":
            return torch.randn(shape, generator=gen) / math.sqrt(shape[0])
        if name == "W2":
            return 0.01 * torch.randn(shape, generator=gen)
        if name == "skip":
            skip = torch.zeros(shape)
            skip[adam_feature, 0] = 1.0
            return skip
        if name == "log_lr":
            return torch.full(shape, math.log(init_lr))
        return torch.zeros(shape)
    return draw


def paper_init(gen):
    """``draw(name, shape)`` of :meth:`ThetaLayout.init` for the parts of
    :func:`head_parts` as Metz et al. (2019) start their optimizer (the
    paper's Section 5): both layers ``N(0, 1 / fan_in)`` (seeded by
    ``gen``), the biases 0; the linear path 0 and ``log_lr = log
    PAPER_STEP``, parts that :func:`mlp_step` with ``paper=True`` does not
    use (their meta-gradient is 0: they keep these values)."""
    def draw(name, shape):
        if name in ("W1", "W2"):
            return torch.randn(shape, generator=gen) / math.sqrt(shape[0])
        if name == "log_lr":
            return torch.full(shape, math.log(PAPER_STEP))
        return torch.zeros(shape)
    return draw


def mlp_step(coords, time, p, n_odd=None, paper=False):
    """The step (B, D) of the per-coordinate MLP with parts ``p``
    (:func:`head_parts`) at features ``coords`` (B, D, F) and step-number
    features ``time`` (S,), shared by all coordinates (they enter as
    biases, no (B, D, F + S) concatenation)::

        step = exp(log_lr) * d * exp(S tanh(s / S)),
        (d, s) = 0.1 (W2 relu(W1 x + b1) + b2) + skip x.

    ``n_odd``: the first ``n_odd`` features are odd (they change sign with
    the parameters and gradients), the others even; then the network is
    made sign-equivariant: ``d(x) = (D(x) - D(Px)) / 2`` and ``s(x) = (S(x)
    + S(Px)) / 2`` with ``Px`` the odd features negated, so that the step
    changes sign with the gradient and no drift (a step that does not) can
    be learned; the linear path then reaches ``d`` from the odd features
    only and ``s`` from the even ones (and the step features) only.

    ``paper=True``: Metz et al.'s parametrisation, the network's outputs
    unscaled and no linear path, ``(d, m) = W2 relu(W1 x + b1) + b2``, and
    ``step = PAPER_STEP * d * exp(PAPER_EXP * m)`` (the exponent bounded
    as above, which it only reaches for ``|m| > 1000``): a step that
    starts at the scale of 1e-3 whatever theta's start, and whose size the
    network can barely change through ``m``.
    """
    n = coords.shape[-1]
    W1, W2, b2, skip = p["W1"], p["W2"], p["b2"], p["skip"]
    bias = p["b1"] + time @ W1[n:]
    mult = 1.0 if paper else MLP_SCALE
    if n_odd is None:
        hidden = torch.relu(coords @ W1[:n] + bias)
        out = mult * (hidden @ W2 + b2)
        if not paper:
            out = out + coords @ skip[:n] + time @ skip[n:]
        direction, magnitude = out[..., 0], out[..., 1]
    else:
        odd, even = coords[..., :n_odd], coords[..., n_odd:]
        a = odd @ W1[:n_odd]
        c = even @ W1[n_odd:n] + bias
        plus, minus = torch.relu(c + a), torch.relu(c - a)
        direction = mult * 0.5 * ((plus - minus) @ W2[:, 0])
        magnitude = mult * (0.5 * ((plus + minus) @ W2[:, 1]) + b2[1])
        if not paper:
            direction = direction + odd @ skip[:n_odd, 0]
            magnitude = (magnitude + even @ skip[n_odd:n, 1]
                         + time @ skip[n:, 1])
    if paper:
        return PAPER_STEP * direction * torch.exp(
            MAG_BOUND * torch.tanh(PAPER_EXP * magnitude / MAG_BOUND))
    scale = torch.exp(MAG_BOUND * torch.tanh(magnitude / MAG_BOUND))
    return torch.exp(p["log_lr"]) * direction * scale
