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
- :func:`per_tensor_scale`: a feature divided by its mean absolute value
  over the coordinates of each parameter tensor (per task), so that the
  features' scale does not depend on the network or on the gradients'
  magnitude.
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


@lru_cache(maxsize=16)
def segment_index(segments, device):
    """(D,) the parameter tensor each coordinate belongs to."""
    sizes = torch.tensor(segments, device=device)
    return torch.repeat_interleave(torch.arange(len(segments),
                                                device=device), sizes)


def per_tensor_scale(raw, segments):
    """``raw`` (B, D, F) divided, feature by feature, by its mean absolute
    value over each parameter tensor of sizes ``segments`` (per task),
    spread back to the coordinates by one gather."""
    segments = segments or (raw.shape[1],)
    means = torch.stack([part.abs().mean(1) for part in
                         torch.split(raw, segments, dim=1)], dim=1)
    return raw / (means + TINY)[:, segment_index(segments, raw.device)]
