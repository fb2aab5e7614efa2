"""torch.optim optimizers as inner optimizers, one instance per task.

Packages such as DoG, Prodigy, D-Adaptation and Schedule-Free are
``torch.optim.Optimizer`` s: stateful, one step over parameter tensors, and
with a *global* step-size estimate per parameter group (DoG's distance
``max ||x_k - x_0||``, Prodigy's and D-Adaptation's ``d``). Stepping a batch
of tasks as one tensor would couple the tasks through that estimate, so
:class:`PerTaskTorchOptimizer` keeps one optimizer instance, over one
parameter vector (d,), per task, in the inner-optimizer state: tasks stay
independent and the wrapper plugs into the one
:func:`~benchmark_utils.unroll.unroll` like any inner optimizer.

The state is mutable (the torch optimizers are), so the wrapper serves
evaluation only, not differentiation; it ignores ``theta`` (the
hyper-parameters are set when it is built).
"""

from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import torch

from .base import InnerOptimizer


class TorchOptimizerState(NamedTuple):
    params: list        # one (d,) leaf tensor per task
    optimizers: list    # one torch.optim.Optimizer per task


@dataclass(frozen=True)
class PerTaskTorchOptimizer(InnerOptimizer):
    """``factory(params_list) -> torch.optim.Optimizer``, run per task.

    ``update`` writes each task's row of ``params`` and ``grad`` into that
    task's parameter and its ``.grad`` and calls ``step()``. Optimizers with
    ``train()``/``eval()`` modes (schedule-free) are put in train mode at
    ``init`` and evaluated by :meth:`finalize` in eval mode, at their
    averaged point.
    """

    factory: object

    @classmethod
    def from_class(cls, optimizer_class, **hyper_parameters):
        return cls(partial(optimizer_class, **hyper_parameters))

    def init(self, params):
        slots = [p.detach().clone() for p in params]
        optimizers = [self.factory([p]) for p in slots]
        for opt in optimizers:
            if hasattr(opt, "train"):
                opt.train()
        return TorchOptimizerState(slots, optimizers)

    def update(self, params, grad, state, theta):
        with torch.no_grad():
            for j, (p, opt) in enumerate(zip(*state)):
                p.copy_(params[j])
                p.grad = grad[j].detach().clone()
                opt.step()
            return torch.stack([p.detach().clone() for p in state.params]), \
                state

    def finalize(self, params, state):
        with torch.no_grad():
            for opt in state.optimizers:
                if hasattr(opt, "eval"):
                    opt.eval()
            return torch.stack([p.detach().clone() for p in state.params])
