"""A normalized score: the speedup over learning-rate-tuned Adam.

Per meta-test task and loss (the full ``"train"`` split, and ``"test"``):
the **yardstick** is Adam's envelope, as learned_optimization's
``baselines/normalizers.py`` builds it: Adam (default betas) run from the
task's start for ``FACTOR * T`` steps at every learning rate of
:data:`ADAM_GRID`, its loss recorded at :func:`checkpoints`, the minimum
over learning rates at each checkpoint, then the running minimum over
steps, ``E(k)`` (non-increasing). The **speedup** of an optimizer whose
loss after its T steps is ``L``::

    speedup = min{k : E(k) <= L} / T

(``k`` linearly interpolated between the two checkpoints around the
crossing): how many steps tuned Adam needs to do as well, in units of T.
It is 1 where the optimizer does as well as the best Adam at T, above 1
where it is faster. Adam runs 10 T steps, so speedups up to 10 are
measured; a loss Adam does not reach within 10 T gets ``FACTOR`` and is
flagged ``censored`` (report it as ">= 10"). A non-finite ``L`` (a
diverged run) has speedup 0, and so has a loss no better than the start.

Unlike learned_optimization, the curves are not smoothed by an exponential
moving average: they are full-split losses at the checkpoints, not noisy
mini-batch losses. Adam at step ``k < T`` sees the same mini-batches as the
scored optimizer; past the schedule's length it cycles through it again.

The yardstick is computed once per batch of tasks (and horizon) and
cached, keyed by a hash of everything the tasks hold (:func:`fingerprint`)
and of the settings: in-process (:class:`Yardsticks`, a dict) and on disk
(``np.savez`` files under :data:`CACHE_DIR`, written atomically; None: no
disk cache), so that every solver of a run, and the next run, reuse it.

A family without a loss curve (whose tasks have no ``"train"`` or
``"test"`` loss) has no score: :func:`unavailable` says why, and the
objective reports that reason instead of a score.
"""

from dataclasses import fields, is_dataclass
import hashlib
import math
import os
from pathlib import Path

import numpy as np
import torch

from .optimizers import Adam
from .unroll import run_steps

ADAM_GRID = tuple(float(x) for x in np.geomspace(1e-5, 1.0, 11))
FACTOR = 10
SPLITS = ("train", "test")
VERSION = 1              # bump when the yardstick's computation changes
CACHE_DIR = Path(__file__).resolve().parents[1] / "__cache__" / "yardsticks"


def unavailable(tasks, splits=SPLITS):
    """Why ``tasks`` cannot be scored (a loss curve is missing), or None."""
    for split in splits:
        try:
            tasks.loss(split)
        except ValueError as err:
            return (f"no speedup score: {tasks.family} tasks have no "
                    f"{split!r} loss curve ({err})")
    return None


def checkpoints(horizon, factor=FACTOR):
    """Steps (sorted ints in [0, factor T]) where Adam's losses are
    recorded: every T/10 and 48 log-spaced ones, T included."""
    last = factor * horizon
    steps = np.concatenate([
        [0, horizon],
        np.round(np.geomspace(1, last, 48)),
        np.round(np.linspace(0, last, 10 * factor + 1)),
    ])
    return np.unique(steps.astype(np.int64))


def _finite(loss):
    loss = loss.detach().double().cpu().numpy()
    return np.where(np.isfinite(loss), loss, np.inf)


def loss_curves(tasks, optimizer, theta, steps, splits=SPLITS):
    """``{split: (B, len(steps))}`` losses (float64, +inf where not finite)
    of ``optimizer`` run from the tasks' start, at ``steps``."""
    optimizer = optimizer.for_layout(tasks.layout)
    losses = {split: tasks.loss(split) for split in splits}
    wanted = {int(k): i for i, k in enumerate(steps)}
    out = {split: np.empty((tasks.n_tasks, len(steps))) for split in splits}

    def record(k, w):
        if k in wanted:
            for split in splits:
                out[split][:, wanted[k]] = _finite(losses[split](w))

    with torch.no_grad():
        w = tasks.w0
        record(0, w)
        run_steps(tasks, optimizer, theta.to(tasks.device), w,
                  optimizer.init(w), 0, int(steps[-1]),
                  lambda k, w: record(k + 1, w))
    return out


def envelope(curves):
    """Running minimum over steps of the minimum over learning rates:
    ``curves`` (G, B, K) -> (B, K), non-increasing along K."""
    best = np.min(np.where(np.isnan(curves), np.inf, curves), axis=0)
    return np.minimum.accumulate(best, axis=-1)


def adam_envelopes(tasks, horizon, grid=ADAM_GRID, factor=FACTOR,
                   splits=SPLITS):
    """``(steps, {split: (B, K)})``: Adam's envelope on every task."""
    steps = checkpoints(horizon, factor)
    adam = Adam()
    thetas = [adam.theta_from(step_size=lr) for lr in grid]
    tiled = tasks.tile(len(grid))
    if tiled is None:
        per_lr = [loss_curves(tasks, adam, theta, steps, splits)
                  for theta in thetas]
        return steps, {split: envelope(np.stack([c[split] for c in per_lr]))
                       for split in splits}
    # every learning rate in one run: row g B + i is task i at grid[g];
    # theta[j] is then a column (G B, 1) of per-row hyper-parameters
    rows = torch.stack(thetas).repeat_interleave(tasks.n_tasks, dim=0)
    curves = loss_curves(tiled, adam, rows.T.unsqueeze(-1), steps, splits)
    shape = (len(grid), tasks.n_tasks, len(steps))
    return steps, {split: envelope(curves[split].reshape(shape))
                   for split in splits}


def speedups(steps, env, final_losses, horizon, factor=FACTOR):
    """``(speedup, censored)`` (B,) of losses ``final_losses`` (B,) reached
    after ``horizon`` steps, against the envelope ``env`` (B, K) recorded at
    ``steps`` (see the module docstring)."""
    final_losses = np.asarray(final_losses, dtype=np.float64)
    out = np.zeros(len(final_losses))
    censored = np.zeros(len(final_losses), dtype=bool)
    for b, target in enumerate(final_losses):
        curve = env[b]
        if not math.isfinite(target) or target >= curve[0]:
            continue                       # no better than the start: 0
        reached = np.flatnonzero(curve <= target)
        if len(reached) == 0:
            out[b], censored[b] = factor, True
            continue
        i = reached[0]                     # i > 0: curve[0] > target
        above, below = curve[i - 1], curve[i]
        frac = 1.0 if not math.isfinite(above) else (
            (above - target) / (above - below))
        out[b] = (steps[i - 1] + frac * (steps[i] - steps[i - 1])) / horizon
    return out, censored


def fingerprint(obj, digest=None):
    """A sha256 of everything ``obj`` holds (tensors by dtype, shape and
    bytes; dataclasses, modules, containers recursively; other values by
    ``repr``): equal for two task batches with the same data."""
    top = digest is None
    digest = digest or hashlib.sha256()
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        digest.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        digest.update(t.numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, np.ndarray):
        digest.update(f"A{obj.dtype}{obj.shape}".encode())
        digest.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, torch.nn.Module):
        digest.update(f"M{type(obj).__qualname__}{obj!r}".encode())
        for key, value in sorted(obj.state_dict().items()):
            digest.update(key.encode())
            fingerprint(value, digest)
    elif is_dataclass(obj) and not isinstance(obj, type):
        digest.update(f"D{type(obj).__qualname__}".encode())
        for f in fields(obj):
            digest.update(f.name.encode())
            fingerprint(getattr(obj, f.name), digest)
    elif isinstance(obj, (tuple, list)):
        digest.update(f"L{len(obj)}".encode())
        for item in obj:
            fingerprint(item, digest)
    elif isinstance(obj, dict):
        for key in sorted(obj, key=repr):
            digest.update(repr(key).encode())
            fingerprint(obj[key], digest)
    else:
        digest.update(f"V{type(obj).__qualname__}{obj!r}".encode())
    return digest.hexdigest() if top else digest


class Yardsticks:
    """Adam's envelopes, computed once per batch of tasks and horizon:
    in-process (a dict) and, where ``folder`` is not None, on disk."""

    def __init__(self, folder=CACHE_DIR, grid=ADAM_GRID, factor=FACTOR,
                 splits=SPLITS):
        self.folder = None if folder is None else Path(folder)
        self.grid, self.factor, self.splits = tuple(grid), factor, splits
        self.memory = {}
        self.computed = 0               # envelopes computed, not loaded

    def key(self, tasks, horizon):
        return fingerprint((VERSION, tasks, horizon, self.grid, self.factor,
                            self.splits, Adam(), str(tasks.device.type)))

    def get(self, tasks, horizon):
        """``(steps, {split: (B, K)})``, Adam's envelope on ``tasks``."""
        key = self.key(tasks, horizon)
        if key in self.memory:
            return self.memory[key]
        path = None if self.folder is None else self.folder / f"{key}.npz"
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as data:
                found = (data["steps"], {s: data[s] for s in self.splits})
        else:
            found = adam_envelopes(tasks, horizon, self.grid, self.factor,
                                   self.splits)
            self.computed += 1
            if path is not None:
                self._write(path, found)
        self.memory[key] = found
        return found

    def _write(self, path, found):
        steps, env = found
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.part.npz")
        np.savez(partial, steps=steps, **env)
        os.replace(partial, path)

    def score(self, tasks, horizon, final_losses):
        """``{split: (speedup, censored)}`` of per-task final losses
        ``{split: (B,)}`` after ``horizon`` steps on ``tasks``."""
        steps, env = self.get(tasks, horizon)
        return {split: speedups(steps, env[split], final_losses[split],
                                horizon, self.factor)
                for split in self.splits}


#: the yardsticks of this process (the objective's)
YARDSTICKS = Yardsticks()
