"""Task families: the contract (:mod:`.base`) and the families.

- :mod:`.base`: :class:`TaskBatch`, the contract every family follows
  (required members and optional capabilities with safe defaults);
- :mod:`.sampler`: the one mini-batch schedule (shuffled epochs);
- :mod:`.linear`, :mod:`.gd_closed_form`, :mod:`.linear_families`:
  quadratics and least squares, their exact gradient-descent closed form,
  and their generators;
- :mod:`.mlp`: small MLP classifiers on images (paper Section 5), the
  base of the classification families;
- :mod:`.modules`: any ``torch.nn.Module`` as tasks, with ``torch.func``
  (the ``conv`` family);
- :mod:`.suites`: held-out meta-test suites and the held-out image pool.
"""

from .base import DTYPES, REQUIRED_METRICS, TaskBatch, make_generator
from .gd_closed_form import ScaledIterate, bmv, gd_exact
from .linear import LinearTasks, QuadraticLoss, Spectrum
from .linear_families import (
    SPECTRA, check_family_parameters, make_least_squares_tasks,
    make_quadratic_tasks, quadratic_tasks,
)
from .mlp import MLPTasks, check_mlp_parameters, make_mlp_tasks
from .sampler import MinibatchSchedule

__all__ = [
    "DTYPES", "REQUIRED_METRICS", "TaskBatch", "make_generator",
    "ScaledIterate", "bmv", "gd_exact", "LinearTasks", "QuadraticLoss",
    "Spectrum", "SPECTRA", "check_family_parameters",
    "make_least_squares_tasks", "make_quadratic_tasks", "quadratic_tasks",
    "MLPTasks", "check_mlp_parameters", "make_mlp_tasks",
    "MinibatchSchedule",
]
