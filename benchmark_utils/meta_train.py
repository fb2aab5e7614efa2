"""The one meta-training loop every meta-learning solver shares.

Each meta-step estimates the meta-gradient at the current ``theta`` and lets
the meta-optimizer propose the next one. A meta-step whose meta-loss or
meta-gradient is not finite (the estimator failed: overflow, NaN; a finite
gradient of an infinite loss is no gradient) is counted in ``failures`` and
never averaged in: the meta-optimizer is told (``grad=None``) and decides
where to go (stay, or retreat toward its last good point). A proposal that
is not finite is counted too and rejected: ``theta`` is always finite, so
nothing already learned is lost and no NaN reaches the results.

Meta-training has converged, or is stuck, once ``theta`` has not changed for
``STALL_PATIENCE`` consecutive meta-steps (:attr:`MetaTrainer.stalled`): the
solvers stop there. This is a rule on the meta-learner's own state, never on
meta-test metrics, which would be early stopping on the test set.

Selection (optional, ``selection=``): every ``select_every`` meta-steps
(at the start, and at the last meta-step of a budget) the current
``theta`` is scored by a :class:`MetaValidation`, on meta-validation
tasks set apart from the meta-train tasks where the solver could (else on
fresh runs of the meta-train tasks), and the result is the best ``theta``
scored so far, its start included: meta-training then never reports a
``theta`` that does worse than its start on meta-validation runs. A
``theta`` is a candidate only if it beats the start by more than the
noise (:func:`improves`: the mean of the paired per-task differences
exceeds one standard error of them): a gain within the task-to-task
spread is no evidence, and with a few meta-validation tasks it used to
swap the start for a theta that was slightly worse on the meta-test
tasks. Among the candidates, the lowest mean wins: asking each one to
beat the last best by the noise too kept the first noisy candidate
against later, better ones (Adafac on mlp, 5 repetitions: handed back
above the start in 2). Its cost is counted in
``inner_gradient_evaluations``. Every scored theta is kept in
:attr:`MetaTrainer.scored` (``(meta_step, theta, scores)``), so that a
study can judge the rule (``scripts/selection_rules.py``).

Budget (optional, ``budget=``): the meta-training budget in inner-gradient
evaluations, summed over tasks, selection included.
:meth:`MetaTrainer.within_budget` says whether one more meta-step (and the
selection it would trigger, and the final one) still fits, judged by the
cost of the last meta-step: a budgeted run spends at most ``budget``.
"""

from dataclasses import dataclass
import math

import torch

STALL_PATIENCE = 10


@dataclass(frozen=True)
class SolverResult:
    """What every solver hands to the objective: an inner optimizer and its
    ``theta`` (learned, tuned or fixed).

    ``meta_steps`` meta-gradients were evaluated; ``meta_grad_failures`` of
    those steps failed (non-finite meta-loss or meta-gradient, or a
    non-finite proposal). ``inner_gradient_evaluations`` is what choosing
    ``theta`` cost, summed over meta-train tasks (see
    :class:`~benchmark_utils.meta_objectives.MetaGradient`); 0 for a rule
    that needs no tuning. ``validation_split``: whether ``theta`` was chosen
    on a held-out split of the meta-train tasks (train-by-validation) or on
    their training split; None for a rule chosen without either.
    ``device``: where ``theta`` was chosen, and where the objective runs the
    meta-test evaluation (None: the run's device).
    ``final``: the solver has finished (its ``run`` has returned or is
    returning: it stopped by itself, or it runs once), so this is the last
    result of its run: the objective then evaluates the held-out suites
    in full (see ``objective.py``).
    """

    optimizer: object
    theta: torch.Tensor
    meta_steps: int = 0
    meta_grad_failures: int = 0
    inner_gradient_evaluations: int = 0
    validation_split: bool | None = None
    device: object = None
    final: bool = False


EVAL_RUN = 10 ** 6      # restart ids of meta-validation runs


class MetaValidation:
    """The meta-objective of ``theta`` on ``runs`` fixed fresh runs of
    ``tasks`` (the meta-validation tasks; default: the meta-train tasks of
    ``problem``), ``tasks.restart(EVAL_RUN + r)`` (initialisations,
    mini-batch orders and, for held-out tasks, train/validation partitions
    that meta-training never draws), without gradients: ``mean_r
    F_r(theta)``, ``F_r`` the meta-objective of the run's final iterate on
    the meta-objective's split (the held-out samples for
    train-by-validation). Never the meta-test tasks. Tasks whose restarts
    are all the same run (full-batch linear tasks) are run once. A
    non-finite score is +inf. ``cost``: the inner gradients of one score.
    """

    def __init__(self, problem, tasks=None, runs=2):
        tasks = problem.tasks if tasks is None else tasks
        self.problem = problem
        self.tasks = [tasks.restart(EVAL_RUN + r) for r in range(runs)]
        if all(t is self.tasks[0] for t in self.tasks):
            self.tasks = self.tasks[:1]

    @property
    def cost(self):
        return sum(self.problem.horizon * t.n_tasks for t in self.tasks)

    def scores(self, theta):
        """The meta-objective of every (run, task) pair, a float64 (R B,)
        tensor, +inf where it is not finite."""
        from .unroll import unroll
        problem, values = self.problem, []
        with torch.no_grad():
            for tasks in self.tasks:
                w = unroll(tasks, problem.optimizer, theta, problem.horizon)
                values.append(problem.objective.per_task(
                    tasks, w, problem.horizon).double().cpu())
        values = torch.cat(values)
        return torch.where(torch.isfinite(values), values, math.inf)

    def __call__(self, theta):
        """The mean of :meth:`scores` (+inf if one is not finite)."""
        return float(self.scores(theta).mean())


def improves(scores, best, k=1.0):
    """Whether per-(run, task) ``scores`` beat ``best`` (same pairs) by
    more than the noise: the mean paired difference ``best - scores``
    exceeds ``k`` (1) standard errors of those differences (with one
    pair: is positive). A non-finite candidate never improves; any finite
    one improves on a non-finite best."""
    if not bool(torch.isfinite(scores).all()):
        return False
    if not bool(torch.isfinite(best).all()):
        return True
    if scores.numel() < 2:
        return bool((best - scores).mean() > 0)
    return paired_z(scores, best) > k


def paired_z(scores, best):
    """The mean paired gain ``best - scores`` in standard errors of those
    gains (+-inf where they are all equal and nonzero, NaN where all 0)."""
    gain = best - scores
    return float(gain.mean() / (gain.std() / math.sqrt(gain.numel())))


def replaces(scores, start, best_mean, k=1.0):
    """The selection's rule: a theta with per-pair ``scores`` replaces the
    best so far (mean ``best_mean``) if it beats the ``start``'s scores
    beyond the noise (:func:`improves`, threshold ``k``) and its mean is
    lower."""
    return improves(scores, start, k) and float(scores.mean()) < best_mean


class MetaTrainer:
    """Meta-train ``theta`` on ``problem`` with ``estimator``.

    ``estimator`` is one of :mod:`benchmark_utils.meta_gradients` (see
    :func:`~benchmark_utils.meta_gradients.get_estimator`); its state
    (:meth:`~benchmark_utils.meta_gradients.base.Estimator.init_state`)
    lives here, one per run, so that a stochastic estimator replays its
    noise in a new run. ``meta_optimizer`` is one of
    :mod:`benchmark_utils.meta_optimizers`. ``budget``: see the module
    docstring (None: no budget).
    """

    def __init__(self, problem, estimator, meta_optimizer, theta0,
                 selection=None, select_every=1, budget=None):
        self.problem = problem
        self.estimator = estimator
        self.meta_optimizer = meta_optimizer
        self.theta = theta0.detach().clone()
        self.state = estimator.init_state(problem, self.theta)
        self.meta_steps = 0
        self.failures = 0
        self.inner_gradient_evaluations = 0
        self.unchanged_steps = 0
        self.selection, self.select_every = selection, select_every
        self.budget = budget
        self.last_step_cost = 0
        self.best = self.start = None
        self.selected_at = None
        self.scored = []
        self._select()

    def _select(self):
        """Score the current theta; keep it if it is the best so far: the
        start, until a theta beats it beyond the noise (:func:`improves`);
        then the lowest mean of those that do."""
        if self.selection is None or self.selected_at == self.meta_steps:
            return
        self.selected_at = self.meta_steps
        scores = self.selection.scores(self.theta)
        self.inner_gradient_evaluations += self.selection.cost
        candidate = (float(scores.mean()), self.theta.clone(), scores)
        self.scored.append((self.meta_steps, candidate[1], scores))
        if self.start is None:
            self.best = self.start = candidate
        # beating the start beyond the noise implies a lower mean than it
        elif replaces(scores, self.start[2], self.best[0]):
            self.best = candidate

    def step(self):
        """One meta-step; returns the estimator's ``MetaGradient``."""
        meta_grad, self.state = self.estimator.estimate(
            self.problem, self.theta, self.state)
        self.meta_steps += 1
        self.last_step_cost = meta_grad.inner_gradient_evaluations
        self.inner_gradient_evaluations += meta_grad.inner_gradient_evaluations
        grad = meta_grad.grad
        if not (math.isfinite(meta_grad.loss)
                and bool(torch.isfinite(grad).all())):
            grad = None         # e.g. backprop: log(inf) has derivative 0
        proposal = self.meta_optimizer.step(
            self.theta, meta_grad.loss, grad
        ).detach()
        finite = bool(torch.isfinite(proposal).all())
        if grad is None or not finite:
            self.failures += 1
        if not finite:
            proposal = self.theta
        if torch.equal(proposal, self.theta):
            self.unchanged_steps += 1
        else:
            self.unchanged_steps = 0
        self.theta = proposal
        if self.meta_steps % self.select_every == 0:
            self._select()
        return meta_grad

    def within_budget(self):
        """Whether one more meta-step fits the budget, with the one score
        that follows it (the selection it triggers, or the final one of
        :meth:`finish`), judged by the last meta-step's cost (before the
        first: whether anything is left)."""
        if self.budget is None:
            return True
        if self.meta_steps == 0:
            return self.inner_gradient_evaluations < self.budget
        # the next step, then one score: its own selection or the final
        selection = 0 if self.selection is None else self.selection.cost
        cost = self.last_step_cost + selection
        return self.inner_gradient_evaluations + cost <= self.budget

    def finish(self):
        """Score the last theta too (once), so that no meta-step after the
        last selection is lost; its cost is counted."""
        self._select()

    @property
    def stalled(self):
        """True once theta has not changed for STALL_PATIENCE meta-steps."""
        return self.unchanged_steps >= STALL_PATIENCE

    def result(self):
        """A snapshot of what is learned so far (with a selection: the
        best theta scored so far)."""
        theta = self.theta if self.best is None else self.best[1]
        return SolverResult(
            self.problem.optimizer, theta.clone(), self.meta_steps,
            self.failures, self.inner_gradient_evaluations,
            self.problem.objective.split == "validation",
            self.problem.tasks.device,
        )
