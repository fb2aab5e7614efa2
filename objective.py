import warnings

import torch
from benchopt import BaseObjective
from benchopt.stopping_criterion import NoCriterion

from benchmark_utils.devices import (
    check_device, device_unavailable, resolve_device,
)
from benchmark_utils.evaluation import RepeatedEvaluation
from benchmark_utils.held_out import final_report
from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers import GradientDescent


class Objective(BaseObjective):
    """Meta-optimization: learn an inner optimizer on meta-train tasks.

    The dataset gives a task family: meta-train tasks (handed to solvers),
    held-out meta-test tasks and the horizon T, each batch a
    :class:`~benchmark_utils.tasks.base.TaskBatch`. A solver returns a
    ``SolverResult`` (an inner optimizer and its theta);
    ``evaluate_result`` runs it T steps on every meta-test task and
    reports (asking the tasks and the optimizer for capabilities, never for
    a family's name):

    - ``value``: mean meta-test loss at ``w_T`` (quadratic: ``f(w_T)``;
      least squares: the population loss ``1/2 (||w_T - w*||^2 + sigma^2)``),
      +inf when it leaves float64's range;
    - ``train_loss``: mean inner training loss at ``w_T``;
    - ``log_objective``: mean ``(1/T) log`` meta-test loss, computed in log
      space, finite wherever ``value`` over- or underflows;
    - ``diverged_fraction``: share of meta-test tasks whose loss is not finite;
    - the optimizer's hyper-parameters (``optimizer.hyperparameters``):
      ``step_size`` (the learned eta of gradient descent; the learned lr of
      SGD-momentum and Adam, with ``momentum``, ``beta1``, ``beta2``,
      ``eps``); none for the adaptive references;
    - ``meta_grad_failures``: meta-steps whose meta-gradient was not finite
      (skipped by the meta-training loop);
    - ``inner_gradient_evaluations``: what learning theta cost, in inner
      gradient evaluations summed over meta-train tasks (0 for rules that
      need no tuning);
    - ``validation_split``: 1 where theta was chosen on a held-out split of
      the meta-train tasks (train-by-validation, tuned SGD and Adam), 0 on
      their training split; absent for the references;
    - where the tasks know it (``train_tasks.optimal_step_size``:
      quadratics): ``eta_star``, the exact minimiser of the mean over
      meta-train tasks of ``(1/T) log f(w_T)``, and ``step_size_rel_error``
      ``= |eta - eta*| / eta*`` (gradient descent only);
    - whatever the family's ``metrics`` add: least squares ``excess_risk``
      (mean ``||w_T - w*||^2``); mlp ``test_accuracy``, ``train_accuracy``
      (``value`` is then the mean test cross-entropy);
    - the optimizer's ``diagnostics``: the neural learned optimizer's
      ``nonfinite_gradients`` (non-finite gradient entries it was fed and
      ignored, per task).

    An unchanged result (the same optimizer object and an equal theta, as
    a learned optimizer's between two selections) is not run again: its
    metrics are reused (``evaluation.RepeatedEvaluation``; the evaluation
    is deterministic).

    A dataset may give an ``eval_horizon`` (None = ``horizon``): the
    meta-test tasks then run that many steps, while solvers meta-train at
    ``horizon`` (horizon generalization); ``eta_star`` stays the optimum
    at ``horizon``, the one the solvers are asked to find.

    A dataset whose data is missing (MNIST not fetched) is skipped with the
    instructions to get it.

    Device: ``device`` ("auto", the default: CUDA when present, else the
    CPU; "cpu"; "cuda") places the whole run: the meta-train tasks handed
    to every solver are on it, so the solvers meta-train there (a solver's
    own ``device`` may override), and each result is evaluated where it was
    chosen (``SolverResult.device``; the run's device for a result that
    does not say). The exact float64 paths of linear tasks (spectra, the
    closed form of gradient descent, ``eta_star``) run on the CPU whatever
    the device (:mod:`benchmark_utils.devices`). ``"cuda"`` without a GPU
    skips the run with the reason.

    Held-out suites and the score (``benchmark_utils/held_out.py``): a
    dataset may give ``suites`` (``{name: Suite}``, see
    ``benchmark_utils/tasks/suites.py``) and ``score=True`` (the speedup
    over tuned Adam, ``benchmark_utils/scoring.py``). They are evaluated
    once per run, in full, never at the intermediate evaluations (they
    would dominate a run): on the evaluation of a result marked ``final``
    (a solver that stopped by itself, or runs once), as columns
    ``suite_<name>_<metric>``, ``speedup_train``, ``speedup_test``,
    ``suite_<name>_speedup_*``; and, in every case (also after
    ``--timeout`` or ``--max-runs``), in benchopt's ``save_final_results``
    artefact with the per-task values (the ``final_results`` column of a
    run's last row; :mod:`benchmark_utils.aggregation` reads it). The two
    come from one computation. A suite that could not be built is skipped
    with its reason (a warning, and ``skipped`` in the artefact).

    Stopping: benchopt never stops a run on these meta-test metrics (that
    would be early stopping on the test set, and would cut short the
    train-by-train runs whose test loss rises as they overfit, or discard a
    run whose first ``value`` is inf as "diverged"). A meta-learning solver
    stops once its learned theta has not changed for 10 meta-steps
    (converged, or stuck on failing meta-gradients), at ``--timeout``, or
    after ``--max-runs`` evaluations.
    """

    name = "meta-optimization"
    min_benchopt_version = "1.10"
    requirements = ["pip::torch", "scipy"]

    sampling_strategy = "callback"
    stopping_criterion = NoCriterion()
    parameters = {"device": ["auto"]}
    test_config = {"dataset": {"name": ["quadratic", "least_squares",
                                        "mlp"]}}

    def skip(self, train_tasks, test_tasks, horizon, unavailable=None,
             eval_horizon=None, suites=None, score=False):
        # a dataset whose data is absent (MNIST not fetched) says why; so
        # does a device that is not valid or not here
        try:
            check_device(self.device)
        except ValueError as err:
            return True, str(err)
        reason = unavailable or device_unavailable(self.device)
        return reason is not None, reason

    def set_data(self, train_tasks, test_tasks, horizon, unavailable=None,
                 eval_horizon=None, suites=None, score=False):
        self.run_device = resolve_device(self.device)
        self.train_tasks = train_tasks.validate().to(self.run_device)
        self.test_tasks = test_tasks.validate()
        self._test_tasks_on = {test_tasks.device: self.test_tasks}
        self.horizon = horizon
        self.eval_horizon = horizon if eval_horizon is None else eval_horizon
        self.eta_star = train_tasks.optimal_step_size(horizon)
        self.suites = {name: suite.validate(name)
                       for name, suite in (suites or {}).items()}
        for name, suite in self.suites.items():
            if suite.unavailable is not None:
                warnings.warn(f"suite {name!r} skipped: {suite.unavailable}")
        self.score = bool(score)
        self._last_report = None
        # an unchanged result (between two selections of a learned
        # optimizer) is not run T steps again: the same metrics
        self._evaluate = RepeatedEvaluation()

    def final_report(self, result):
        """The suites' and the score's report of ``result``, computed once
        per result (the final evaluation and ``save_final_results`` share
        it); None where the dataset asks for neither."""
        if not (self.suites or self.score):
            return None
        if self._last_report is None or self._last_report[0] is not result:
            report = final_report(self.test_tasks, self.eval_horizon,
                                  self.suites, result, self.score)
            for name, reason in report.artefact["skipped"].items():
                if name not in self.suites or (
                        self.suites[name].unavailable is None):
                    warnings.warn(f"suite {name!r} skipped: {reason}")
            self._last_report = (result, report)
        return self._last_report[1]

    def get_objective(self):
        # each solver gets its own copy of the tasks (`fresh()`), so that a
        # spectrum one solver computed and cached is not free for the next:
        # costs do not depend on the solver order
        return dict(tasks=self.train_tasks.fresh(), horizon=self.horizon)

    def test_tasks_on(self, device):
        """The meta-test tasks on ``device`` (moved once, then kept)."""
        device = torch.device(device)
        if device not in self._test_tasks_on:
            self._test_tasks_on[device] = self.test_tasks.to(device)
        return self._test_tasks_on[device]

    def evaluate_result(self, result):
        device = self.run_device if result.device is None else result.device
        metrics = self._evaluate(self.test_tasks_on(device), result,
                                 self.eval_horizon)
        metrics["meta_grad_failures"] = float(result.meta_grad_failures)
        metrics["inner_gradient_evaluations"] = float(
            result.inner_gradient_evaluations)
        if result.validation_split is not None:
            metrics["validation_split"] = float(result.validation_split)
        if self.eta_star is not None:
            metrics["eta_star"] = self.eta_star
        if self.eta_star is not None and "step_size" in metrics:
            metrics["step_size_rel_error"] = (
                abs(metrics["step_size"] - self.eta_star) / self.eta_star
            )
        if result.final and (self.suites or self.score):
            metrics.update(self.final_report(result).columns)
        return metrics

    def save_final_results(self, result):
        # benchopt calls this once per run, with its last result, however
        # the run ended: the per-task values of the suites and the score
        report = self.final_report(result)
        return None if report is None else report.artefact

    def get_one_result(self):
        # GD with the classic safe step 1/L of the meta-train tasks (a fixed
        # 0.1 where L is unknown, e.g. on networks)
        bounds = self.train_tasks.spectrum_bounds()
        eta = 0.1 if bounds is None else 1.0 / bounds[0]
        optimizer = GradientDescent()
        return dict(result=SolverResult(
            optimizer, optimizer.theta_from(step_size=eta)))
