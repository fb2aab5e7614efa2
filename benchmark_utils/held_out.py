"""What the objective reports at the end of a run: the held-out suites,
per-task losses and the speedup score.

:func:`final_report` runs a solver's result on the in-distribution
meta-test tasks and on every suite (:mod:`benchmark_utils.tasks.suites`),
and returns a :class:`FinalReport`:

- ``columns``, plain floats for benchopt's table: every suite's metrics
  (``tasks.metrics`` and the optimizer's ``diagnostics``) prefixed
  ``suite_<name>_``; where the score is on, ``speedup_train`` and
  ``speedup_test`` (in-distribution) and ``suite_<name>_speedup_train``,
  ``suite_<name>_speedup_test``: the interquartile mean over the suite's
  tasks of the speedup over tuned Adam (:mod:`benchmark_utils.scoring`);
- ``artefact``, the per-task values, for benchopt's ``save_final_results``
  (stored in the ``final_results`` column of the run's last row; read
  back by :mod:`benchmark_utils.aggregation`)::

      {"version": 1,
       "suites": {name: {"horizon": T, "train_loss": [...],
                         "test_loss": [...], "speedup_train": [...],
                         "censored_train": [...], ...}},
       "skipped": {name: reason}}

  with ``"in_distribution"`` among the suites (the meta-test tasks).

Nothing is lost to a suite that fails: a suite that was not built, whose
run raises (ValueError, RuntimeError: e.g. an optimizer that cannot handle
its layout) or that has no loss curve to score is listed in ``skipped``
with the reason, and the others are reported.
"""

from dataclasses import dataclass, field
import math

import numpy as np
import torch
from scipy.stats import trim_mean

from .scoring import YARDSTICKS, unavailable
from .unroll import unroll

IN_DISTRIBUTION = "in_distribution"
ARTEFACT_VERSION = 1


@dataclass
class FinalReport:
    columns: dict = field(default_factory=dict)
    artefact: dict = field(default_factory=dict)


def interquartile_mean(x):
    """Mean of the middle 50% of ``x`` (scipy's ``trim_mean(x, 0.25)``)."""
    return float(trim_mean(np.asarray(x, dtype=np.float64), 0.25))


def _per_task(loss):
    loss = loss.detach().double().cpu()
    return torch.where(torch.isfinite(loss), loss, math.inf).tolist()


def _splits(tasks):
    """The splits among train and test that ``tasks`` have a loss for."""
    return [s for s in ("train", "test") if unavailable(tasks, (s,)) is None]


def run_suite(tasks, result, horizon, score, yardsticks):
    """``(metrics, per_task, score_skipped)`` of ``result`` on one suite."""
    optimizer = result.optimizer.for_layout(tasks.layout)
    with torch.no_grad():
        w_T, state = unroll(tasks, result.optimizer,
                            result.theta.to(tasks.device), horizon,
                            return_state=True)
        metrics = tasks.metrics(w_T, horizon)
        metrics.update(optimizer.diagnostics(state))
        per_task = {"horizon": horizon}
        for split in _splits(tasks):
            per_task[f"{split}_loss"] = _per_task(tasks.loss(split)(w_T))
    reason = unavailable(tasks) if score else None
    if score and reason is None:
        scored = yardsticks.score(
            tasks, horizon,
            {s: per_task[f"{s}_loss"] for s in yardsticks.splits})
        for split, (speedup, censored) in scored.items():
            per_task[f"speedup_{split}"] = speedup.tolist()
            per_task[f"censored_{split}"] = censored.tolist()
            metrics[f"speedup_{split}"] = interquartile_mean(speedup)
    return metrics, per_task, reason


def final_report(test_tasks, eval_horizon, suites, result, score=False,
                 yardsticks=YARDSTICKS):
    """The :class:`FinalReport` of ``result`` (see the module docstring).
    ``suites``: ``{name: Suite}``, some possibly skipped."""
    report = FinalReport(artefact={"version": ARTEFACT_VERSION,
                                   "suites": {}, "skipped": {}})
    entries = [(IN_DISTRIBUTION, test_tasks, eval_horizon, None)]
    entries += [(name, s.tasks, s.horizon, s.unavailable)
                for name, s in suites.items()]
    for name, tasks, horizon, reason in entries:
        metrics = per_task = None
        if reason is None:
            try:
                metrics, per_task, reason = run_suite(
                    tasks, result, horizon, score, yardsticks)
            except (ValueError, RuntimeError) as err:
                metrics, per_task, reason = None, None, (
                    f"evaluation failed: {type(err).__name__}: {err}")
        if per_task is not None:
            report.artefact["suites"][name] = per_task
        if reason is not None:
            report.artefact["skipped"][name] = reason
        if metrics is None:
            continue
        if name == IN_DISTRIBUTION:     # its other metrics are the usual ones
            report.columns.update({k: v for k, v in metrics.items()
                                   if k.startswith("speedup_")})
        else:
            report.columns.update({f"suite_{name}_{k}": float(v)
                                   for k, v in metrics.items()})
    return report
