"""The one mini-batch schedule: shuffled epochs, drawn once per run.

Every task visits its n training samples in a fresh random order per
epoch, ``b = min(batch_size, n)`` samples per step; the ``n mod b``
samples left over at an epoch's end wait for the next epoch. The schedule
of a run is drawn up front as an index table (B, steps, b), so that an
unrolled run is a deterministic function of the optimizer's ``theta``
(autograd, forward mode and repeated evaluations see the same batches);
past ``steps`` steps it starts over.
"""

from dataclasses import dataclass

import torch


def epoch_batches(n_tasks, n, batch_size, steps, gen):
    """Indices (B, steps, b) of ``steps`` mini-batches of each task's n
    samples in shuffled epochs, drawn from ``gen``."""
    batch_size = min(batch_size, n)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    rows = []
    for _ in range(n_tasks):
        idx = torch.stack([torch.randperm(n, generator=gen)[
            :per_epoch * batch_size] for _ in range(epochs)])
        rows.append(idx.reshape(-1, batch_size)[:steps])
    return torch.stack(rows)


@dataclass(frozen=True, eq=False)
class MinibatchSchedule:
    """The mini-batches of a batch of tasks: ``table`` (B, steps, b)."""

    table: torch.Tensor

    @classmethod
    def draw(cls, n_tasks, n, batch_size, steps, gen):
        """A schedule of ``steps`` batches over n samples per task."""
        return cls(epoch_batches(n_tasks, n, batch_size, steps, gen))

    @property
    def batch_size(self):
        return self.table.shape[2]

    @property
    def steps(self):
        return self.table.shape[1]

    def rows(self, step):
        """(B, b) sample indices of mini-batch ``step``."""
        return self.table[:, step % self.steps]

    def redraw(self, n, gen):
        """A new schedule of the same length and batch size over n samples
        per task (after a hold-out, or for a restarted run)."""
        table = epoch_batches(self.table.shape[0], n, self.batch_size,
                              self.steps, gen)
        return MinibatchSchedule(table.to(self.table.device))

    def to(self, device):
        return MinibatchSchedule(self.table.to(device))


def gather_rows(data, rows):
    """Rows ``rows`` (B, b) of per-task data (B, n, ...) -> (B, b, ...)."""
    if data.dim() == 2:
        return data.gather(1, rows)
    index = rows.reshape(*rows.shape, *([1] * (data.dim() - 2)))
    return data.gather(1, index.expand(-1, -1, *data.shape[2:]))
