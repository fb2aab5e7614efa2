"""Classification tasks for any ``torch.nn.Module``, batched over tasks with
``torch.func``.

A network family in a few lines: give a module (the architecture; its own
parameters are only a template) and labelled data, and
:func:`make_module_tasks` draws B tasks as the ``mlp`` family does (labels
permuted per task, a fresh initialisation per task, the one mini-batch
schedule). Every task's parameters are one flat row of a (B, D) tensor,
the module's parameters in ``named_parameters()`` order, each flattened,
so every inner optimizer applies, and ``layout`` is the module's parameter
shapes (the learned optimizers work per tensor: feature normalisation,
factored second moments of 2-d tensors).

The per-task loss is ``functional_call(module, params(w_b), (X_b,))``
followed by the mean cross-entropy; gradients are ``torch.func.vmap`` of
``torch.func.grad_and_value`` over the task axis, so a batch of tasks is a
handful of batched kernels, not a Python loop. Both are differentiable:
backprop through an unroll (second order, through ``grad``) and forward
mode (``torch.func.jvp`` over ``grad``) work where the module's operations
support them; the estimators probe it (``unsupported``) and skip with
torch's message where they do not.

Limits, checked by :func:`check_module`: no buffers (batch-norm running
statistics would be mutable per-task state) and a deterministic forward
pass (no dropout in training mode).

Measured against the written-out MLP of :mod:`.mlp` on the same network
(``benchmarks/modules.py``): see ``docs/performance.md``; the ``mlp``
family keeps its written-out passes.
"""

from copy import deepcopy
from dataclasses import dataclass
import math

import torch
from torch.func import functional_call, grad_and_value, vmap

from .mlp import MLPTasks, cross_entropy, draw_task_data
from .sampler import MinibatchSchedule


def check_module(module):
    """``module`` if it is an ``nn.Module`` this family supports, else a
    ValueError saying why."""
    if not isinstance(module, torch.nn.Module):
        raise ValueError("module tasks need a torch.nn.Module, got "
                         f"{type(module).__name__}")
    if not list(module.parameters()):
        raise ValueError("the module has no parameters to train")
    if list(module.buffers()):
        names = [name for name, _ in module.named_buffers()]
        raise ValueError(
            "module tasks do not support buffers (mutable per-task state, "
            f"e.g. batch-norm statistics): {names}")
    if any(isinstance(m, torch.nn.modules.dropout._DropoutNd)
           for m in module.modules()) and module.training:
        raise ValueError("module tasks need a deterministic forward pass: "
                         "call module.eval() (dropout)")
    return module


def parameter_specs(module):
    """``((name, shape), ...)`` of the module's parameters, in the order of
    a flat row."""
    return tuple((name, tuple(p.shape))
                 for name, p in module.named_parameters())


def unflatten(row, specs):
    """``{name: tensor}`` views of a flat parameter row (D,)."""
    out, start = {}, 0
    for name, shape in specs:
        size = math.prod(shape)
        out[name] = row[start:start + size].view(shape)
        start += size
    return out


def module_params(module, n_tasks, gen, dtype):
    """(B, D) initial parameters: the module's own initialisation
    (``reset_parameters`` of every submodule), one seeded draw per task."""
    rows = []
    for seed in torch.randint(2 ** 62, (n_tasks,), generator=gen).tolist():
        copy = deepcopy(module)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for m in copy.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        rows.append(torch.cat([p.detach().reshape(-1)
                               for p in copy.parameters()]))
    return torch.stack(rows).to(dtype)


@dataclass(frozen=True, eq=False)
class ModuleTasks(MLPTasks):
    """Classification tasks whose network is ``module`` (see the module
    docstring); everything else (data, schedule, hold-out, restarts,
    metrics) is the ``mlp`` family's. ``sizes`` holds the parameter
    shapes (for messages)."""

    module: torch.nn.Module | None = None
    family: str = "module"

    @property
    def specs(self):
        return parameter_specs(self.module)

    @property
    def layout(self):
        """The module's parameter shapes, in ``named_parameters()`` order
        (``nn.Linear``: weight (out, in), then bias)."""
        return tuple(shape for _, shape in self.specs)

    def _task_logits(self, row, X):
        return functional_call(self.module, unflatten(row, self.specs),
                               (X,))

    def logits_of(self, w, X):
        return vmap(self._task_logits)(w, X)

    def _task_loss(self, row, X, y):
        return cross_entropy(self._task_logits(row, X), y).mean()

    def value_and_grad(self, w, X, y):
        grad, value = vmap(grad_and_value(self._task_loss))(w, X, y)
        return value, grad

    def initial_params(self, gen):
        return module_params(self.module, self.n_tasks, gen, self.dtype)


def make_module_tasks(module, images, labels, n_tasks, n_samples, n_test,
                      batch_size, label_noise, horizon, gen, dtype,
                      family="module"):
    """Draw ``n_tasks`` tasks of ``module`` on ``(images, labels)``
    (numpy): the data of :func:`~.mlp.draw_task_data`, each task's own
    initialisation, ``horizon`` mini-batches of ``batch_size``."""
    module = deepcopy(check_module(module)).to(dtype)
    train, test, _ = draw_task_data(images, labels, n_tasks, n_samples,
                                    n_test, label_noise, gen, dtype)
    seed = int(torch.randint(2 ** 31, (1,), generator=gen))
    return ModuleTasks(
        sizes=tuple(shape for _, shape in parameter_specs(module)),
        w0=module_params(module, n_tasks, gen, dtype),
        train=train, test=test,
        schedule=MinibatchSchedule.draw(n_tasks, n_samples, batch_size,
                                        horizon, gen),
        seed=seed, module=module, family=family,
    )


def digits_cnn(channels=8, n_classes=10):
    """A small convolutional network for 8 x 8 images given as 64 pixels:
    conv 3x3 (``channels``) - ReLU - average pool 2 - conv 3x3 (2
    ``channels``) - ReLU - average pool 2 - linear to ``n_classes``."""
    nn = torch.nn
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(2 * channels * 4, n_classes),
    )
