"""The meta-learning solvers' base: any learnable optimizer, one loop.

:class:`MetaLearningSolver` meta-trains the ``theta`` of any
:class:`~benchmark_utils.optimizers.base.LearnableOptimizer` (gradient
descent's step size, SGD-momentum's and Adam's hyper-parameters, a neural
optimizer's weights) on the meta-train tasks. A solver file declares its
``name`` and ``parameters`` and two hooks:

- :meth:`~MetaLearningSolver.make_optimizer`: the learnable optimizer, with
  its initial values from the solver's parameters;
- :meth:`~MetaLearningSolver.meta_setup`: a :class:`MetaSetup`, the
  meta-objective's ``kind`` and ``split`` (and ``val_fraction``), the
  estimator (``gradient``) and its options.

This class checks the parameters (:meth:`~MetaLearningSolver.
check_parameters`, in ``skip``, before anything runs), asks the tasks and
the estimator for what they support, and runs
:class:`~benchmark_utils.meta_train.MetaTrainer` (with its handling of
failed meta-steps), one benchopt iteration per meta-step
(``sampling_strategy = "callback"``), until ``theta`` stalls, until
``max_meta_steps`` meta-steps or ``budget`` inner gradients, or until
benchopt's budget (``--timeout``, ``--max-runs``) ends the run.

Parameters read here when the solver declares them: ``meta_optimizer`` (see
:mod:`benchmark_utils.meta_optimizers`; required), ``meta_lr`` (None = the
meta-optimizer's default), ``max_meta_steps`` (None = no limit),
``budget`` (the meta-training budget, selection included; the run stops
before the next meta-step and its score would pass it; see
:func:`check_budget`: None = no limit, an integer = inner-gradient
evaluations summed over tasks, ``"<k> runs"`` = the cost of ``k`` whole
runs of every meta-train task),
``select_every`` (None = never: the result is the last theta; k: the best
theta on meta-validation tasks set apart from the meta-train tasks
(:func:`set_apart`; fresh runs of the meta-train tasks where none can
be), scored at the start, every k meta-steps and at the end, see
:mod:`benchmark_utils.meta_train`), ``device``
("auto", the default: where the objective put the tasks, i.e. the run's
device; "cpu" or "cuda" override it), ``compile`` (True: the learnable
optimizer's update through ``torch.compile``, see
:mod:`benchmark_utils.optimizers.compiled`; False: eager; "auto", the
default: compiled on CUDA, eager on the CPU, where TorchInductor's kernels
did not make the meta-gradient faster, see docs/performance.md) and the
estimator options of :data:`~benchmark_utils.meta_gradients.SOLVER_OPTIONS`
(None = the estimator's default). Stochastic estimators and random
initialisations are seeded with benchopt's ``get_seed(use_repetition=True)``,
so a run repeats and ``--n-repetitions`` draws afresh.

A compiled optimizer compiles in :meth:`MetaLearningSolver.warm_up`
(benchopt calls it before the timed run): one meta-step and a short
evaluation on throwaway state, so that compile time stays out of the
solver's curve. CUDA is synchronised after every meta-step, before
benchopt reads its clock.
"""

from dataclasses import dataclass, field, replace

from benchopt import BaseSolver

import torch

from .devices import (
    check_device, device_unavailable, solver_device, synchronize,
)
from .meta_gradients import (
    SOLVER_OPTIONS, estimator_parameters, get_estimator,
)
from .meta_objectives import MetaObjective, MetaProblem
from .meta_optimizers import check_meta_optimizer, make_meta_optimizer
from .meta_train import MetaTrainer, MetaValidation
from .optimizers.compiled import compiled, is_compiled
from .tasks import make_generator
from .unroll import run_steps
from .validation import check_float, check_int

COMPILE_CHOICES = (True, False, "auto")


#: ``val_fraction`` that validates on each task's own held-out samples
HELD_OUT = "held_out"
#: ``val_fraction`` chosen by the tasks' capability: ``HELD_OUT`` where
#: they have held-out samples of their own, else ``AUTO_FRACTION``
AUTO = "auto"
AUTO_FRACTION = 0.5


def check_val_fraction(val_fraction):
    """``val_fraction`` in (0, 1) (hold out that fraction of each task's
    training samples), ``"held_out"`` (train on all of them, validate on
    the task's own held-out samples, where the family has them) or
    ``"auto"`` (``"held_out"`` where the family has them, else 0.5).
    Solvers that have the parameter check it whatever their split, also
    ``split="train"`` where it is unused, so that a typo in a sweep fails
    at once."""
    if isinstance(val_fraction, str) and val_fraction in (HELD_OUT, AUTO):
        return val_fraction
    if isinstance(val_fraction, str):
        raise ValueError(
            f"parameter 'val_fraction' must be a number in (0, 1), "
            f"{HELD_OUT!r} or {AUTO!r}, got {val_fraction!r}")
    return check_float("val_fraction", val_fraction, 0.0, 1.0, True, True)


def resolve_val_fraction(tasks, val_fraction):
    """``val_fraction`` for ``tasks``: ``"auto"`` becomes ``"held_out"``
    where the tasks have held-out samples of their own, else
    :data:`AUTO_FRACTION` of their training samples."""
    if isinstance(val_fraction, str) and val_fraction == AUTO:
        return (HELD_OUT if tasks.held_out_unavailable() is None
                else AUTO_FRACTION)
    return val_fraction


def check_meta_objective(kind, split, val_fraction=None):
    """Check the meta-objective's ``kind`` and ``split`` and, for
    ``split="validation"``, ``val_fraction`` in (0, 1)."""
    MetaObjective(kind, split)
    if split == "validation":
        check_val_fraction(val_fraction)


def check_compile(value):
    """``compile`` in (True, False, "auto"), else ValueError."""
    if not any(value is c or (isinstance(value, str) and value == c)
               for c in COMPILE_CHOICES):
        raise ValueError(
            "parameter 'compile' must be one of True, False, 'auto', got "
            f"{value!r}")
    return value


#: the unit of a budget given in runs: ``"<k> runs"``
RUNS = "runs"


def check_budget(budget):
    """``budget``: None (no limit), an integer >= 1 (inner-gradient
    evaluations summed over tasks, selection included) or ``"<k> runs"``
    with ``k`` an integer >= 1 (``k`` whole runs of every meta-train task,
    see :func:`budget_evaluations`); ValueError naming the parameter
    otherwise. Returns ``(k, "runs")`` or ``(n, None)`` (None for None)."""
    if budget is None:
        return None
    if isinstance(budget, str):
        count, _, unit = budget.strip().partition(" ")
        if (unit.strip() == RUNS and count.isascii() and count.isdigit()
                and int(count) >= 1):
            return int(count), RUNS
        raise ValueError(
            f"parameter 'budget' must be None, an integer >= 1 (inner-"
            f"gradient evaluations) or '<k> runs' with k an integer >= 1, "
            f"got {budget!r}")
    return check_int("budget", budget), None


def budget_evaluations(budget, run_cost):
    """The budget in inner-gradient evaluations (None: no limit): an
    integer as it is; ``"<k> runs"`` is ``k * run_cost``, ``run_cost`` what
    one whole run of every meta-train task handed to the solver costs
    (``horizon * n_tasks``, meta-validation tasks set apart included), so
    that a budget in runs buys as much meta-training, relative to a
    training run, on a family whose gradients are cheap as on one whose
    gradients are dear."""
    checked = check_budget(budget)
    if checked is None:
        return None
    count, unit = checked
    return count * run_cost if unit == RUNS else count


def should_compile(value, device):
    """Whether ``compile=value`` compiles the update on ``device``."""
    if value == "auto":
        return torch.device(device).type == "cuda"
    return bool(value)


def hold_out_unavailable(tasks, split, val_fraction=None):
    """The reason ``split`` (with ``val_fraction``) cannot be used on
    ``tasks``, or None."""
    if split != "validation":
        return None
    if resolve_val_fraction(tasks, val_fraction) == HELD_OUT:
        return tasks.held_out_unavailable()
    return tasks.hold_out_unavailable()


def check_hold_out(tasks, split, val_fraction):
    """For ``split="validation"``, ValueError naming ``val_fraction`` unless
    it leaves a training and a validation sample in every task; nothing is
    split."""
    val_fraction = resolve_val_fraction(tasks, val_fraction)
    if (split == "validation" and val_fraction != HELD_OUT
            and tasks.n_samples is not None):
        tasks.check_hold_out(val_fraction)


def validation_tasks(tasks, val_fraction):
    """``tasks`` with a validation split: their last ``val_fraction`` of
    training samples held out, or (``"held_out"``) all of them kept for
    training and the tasks' own held-out samples validating (``"auto"``:
    see :func:`resolve_val_fraction`)."""
    val_fraction = resolve_val_fraction(tasks, val_fraction)
    if val_fraction == HELD_OUT:
        return tasks.validate_on_held_out()
    return tasks.hold_out(val_fraction)


def meta_problem(tasks, optimizer, kind, split, horizon, val_fraction=None):
    """The meta-problem of learning ``optimizer``'s theta on ``tasks``:
    for ``split="validation"`` each task's last ``val_fraction`` of samples
    is held out, or its own held-out samples validate (``"held_out"``)
    (train-by-validation)."""
    if split == "validation":
        tasks = validation_tasks(tasks, val_fraction)
    return MetaProblem(tasks, optimizer, MetaObjective(kind, split), horizon)


#: share of the meta-train tasks set apart as meta-validation tasks when a
#: solver selects its theta (at least one; none from a single task)
META_VALIDATION_SHARE = 0.25


def set_apart(tasks):
    """``(meta-train tasks, meta-validation tasks)``: the last
    ``META_VALIDATION_SHARE`` of the tasks (at least one) set apart, as
    learned_optimization validates on tasks it never meta-trains on; where
    the batch has a single task or cannot be divided (``take`` is None),
    ``(tasks, None)``."""
    n = tasks.n_tasks
    k = max(1, round(META_VALIDATION_SHARE * n))
    if n < 2:
        return tasks, None
    train, val = tasks.take(range(n - k)), tasks.take(range(n - k, n))
    if train is None or val is None:
        return tasks, None
    return train, val


@dataclass(frozen=True)
class MetaSetup:
    """What a meta-learning solver meta-trains on: the meta-objective
    (``kind`` in {"naive", "log"}, ``split`` in {"train", "validation"},
    ``val_fraction`` for the hold-out) and the estimator ``gradient`` with
    its ``options``."""

    kind: str
    split: str
    gradient: str
    val_fraction: float | None = None
    options: dict = field(default_factory=dict)


class MetaLearningSolver(BaseSolver):
    """Meta-learn a learnable inner optimizer on the meta-train tasks (see
    the module docstring). Do not give this class an attribute named like a
    parameter: benchopt would not overwrite it with the parameter's value.
    """

    sampling_strategy = "callback"

    def make_optimizer(self):
        """The learnable optimizer (initial values from the parameters)."""
        raise NotImplementedError

    def meta_setup(self):
        """The :class:`MetaSetup` of this solver."""
        raise NotImplementedError

    def estimator_options(self):
        """The estimator options among the solver's parameters."""
        return {key: getattr(self, key, None) for key in SOLVER_OPTIONS}

    def check_parameters(self):
        """Check every parameter (ValueError naming a bad one); return
        ``(setup, optimizer, estimator)``. Light: nothing is unrolled."""
        setup = self.meta_setup()
        check_meta_objective(setup.kind, setup.split, setup.val_fraction)
        if hasattr(self, "val_fraction"):      # also where it is unused
            check_val_fraction(self.val_fraction)
        optimizer = self.make_optimizer()
        check_meta_optimizer(self.meta_optimizer, optimizer,
                             optimizer.init_theta())
        make_meta_optimizer(self.meta_optimizer, self.meta_lr, optimizer)
        estimator = get_estimator(setup.gradient, **setup.options)
        for key in ("max_meta_steps", "select_every"):
            if getattr(self, key, None) is not None:
                check_int(key, getattr(self, key))
        check_budget(getattr(self, "budget", None))
        check_device(getattr(self, "device", "auto"))
        check_compile(getattr(self, "compile", False))
        return setup, optimizer, estimator

    def skip(self, tasks, horizon):
        setup, optimizer, estimator = self.check_parameters()
        reason = (hold_out_unavailable(tasks, setup.split,
                                       setup.val_fraction)
                  or device_unavailable(getattr(self, "device", "auto")))
        if reason is None:
            check_hold_out(tasks, setup.split, setup.val_fraction)
            # capabilities only: the tasks are not held out here
            reason = estimator.unsupported(MetaProblem(
                tasks, optimizer, MetaObjective(setup.kind, setup.split),
                horizon))
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        setup, optimizer, estimator = self.check_parameters()
        device = solver_device(getattr(self, "device", "auto"), tasks.device)
        optimizer = optimizer.for_horizon(horizon)
        if should_compile(getattr(self, "compile", False), device):
            optimizer = compiled(optimizer)
        # the unit of a budget in runs: every task handed over, one run
        self.run_cost = horizon * tasks.n_tasks
        # a solver that selects its theta scores it on tasks set apart
        metaval = None
        if getattr(self, "select_every", None) is not None:
            tasks, metaval = set_apart(tasks)
        problem = meta_problem(tasks, optimizer, setup.kind, setup.split,
                               horizon, setup.val_fraction)
        self.problem = replace(problem, tasks=problem.tasks.to(device))
        if metaval is not None:
            metaval = meta_problem(metaval, optimizer, setup.kind,
                                   setup.split, horizon,
                                   setup.val_fraction).tasks.to(device)
        self.metaval_tasks = metaval
        seed = self.get_seed(use_repetition=True)
        options = dict(setup.options)
        if estimator.stochastic:
            options["seed"] = seed
        self.estimator_config = (setup.gradient, options)
        self.theta0 = optimizer.init_theta(
            make_generator(seed), self.problem.tasks.dtype,
        ).to(self.problem.tasks.device)

    def warm_up(self):
        """Compile a compiled optimizer's update outside the timed run:
        one meta-step on a throwaway estimator state, then two steps of
        the evaluation's loop without gradients (nothing else to warm)."""
        if not is_compiled(self.problem.optimizer):
            return
        gradient, options = self.estimator_config
        estimator = get_estimator(gradient, **options)
        estimator.estimate(self.problem, self.theta0,
                           estimator.init_state(self.problem, self.theta0))
        tasks, optimizer = self.problem.tasks, self.problem.optimizer
        with torch.no_grad():
            run_steps(tasks, optimizer, self.theta0, tasks.w0,
                      optimizer.init(tasks.w0), 0,
                      min(2, self.problem.horizon))
        synchronize(tasks.device)

    def run(self, callback):
        gradient, options = self.estimator_config
        self.trainer = MetaTrainer(
            self.problem, get_estimator(gradient, **options),
            make_meta_optimizer(self.meta_optimizer, self.meta_lr,
                                self.problem.optimizer),
            self.theta0, budget=self.inner_gradient_budget,
            **self.selection(),
        )
        steps = getattr(self, "max_meta_steps", None)
        device = self.problem.tasks.device
        while True:
            # known before the callback: benchopt's evaluation of the last
            # theta (in this callback, or right after run returns) is final
            self.finished = (
                self.trainer.stalled or not self.trainer.within_budget()
                or (steps is not None and self.trainer.meta_steps >= steps))
            if self.finished:
                self.trainer.finish()       # the last theta scored too
            if not callback() or self.finished:
                break
            self.trainer.step()
            synchronize(device)         # before benchopt reads its clock
        self.finished = True

    @property
    def inner_gradient_budget(self):
        """The ``budget`` in inner-gradient evaluations (None: no limit),
        its runs counted on the tasks handed to :meth:`set_objective`
        (:func:`budget_evaluations`)."""
        return budget_evaluations(getattr(self, "budget", None),
                                  self.run_cost)

    def selection(self):
        """The trainer's selection options: with ``select_every`` k, the
        best theta by a :class:`~benchmark_utils.meta_train.
        MetaValidation` on the meta-validation tasks set apart in
        :meth:`set_objective` (fresh runs of the meta-train tasks where
        none could be), scored every k meta-steps."""
        every = getattr(self, "select_every", None)
        if every is None:
            return {}
        return dict(selection=MetaValidation(self.problem,
                                             self.metaval_tasks),
                    select_every=every)

    def get_result(self):
        result = self.trainer.result()
        # theta stays where it was learned: the objective evaluates there
        return dict(result=replace(result,
                                   final=getattr(self, "finished", False)))


#: the meta-training budget of every learned optimizer: as many
#: inner-gradient evaluations as 20 whole runs of every meta-train task
#: (selection included). On the mlp defaults (8 tasks, T = 100) and the
#: least-squares ones (20 tasks, T = 40) that is 16,000: 22 meta-steps of
#: whole runs of the 6 meta-train tasks and 6 scores on the 2
#: meta-validation tasks on mlp; on conv (4 tasks, T = 60) 4,800
DEFAULT_BUDGET = "20 runs"


def learned_optimizer_parameters(**overrides):
    """The one meta-training recipe every learned-optimizer solver shares,
    with its defaults, updated by ``overrides`` (each a list of values):

    - train-by-validation (``split="validation"``; ``"train"`` is the
      train-by-train variant), validating on each task's own held-out
      samples where the family has them, else on half of its training
      samples (``val_fraction="auto"``);
    - the meta-loss: the loss at the end of whole fresh inner runs
      (``meta_objective="naive"``, ``gradient="tbptt"``,
      ``meta_loss="final"``), differentiated through their last
      ``truncation`` (20) steps; every estimator option is a parameter;
    - Adam on theta at ``meta_lr`` 1e-2, the meta-gradient's norm clipped
      to 1 (on the mlp defaults, 1e-2 ended lower than 3e-3 for the neural,
      LSTM and factored-moment optimizers; the selection guards against a
      step too far);
    - selection: the best theta by meta-validation tasks set apart from
      the meta-train tasks, scored every ``select_every`` (5) meta-steps,
      at the start and at the end (its cost counted);
    - the budget: ``budget`` (:data:`DEFAULT_BUDGET`, the same for every
      learned optimizer: the inner-gradient evaluations of 20 whole runs
      of every meta-train task, selection included; an integer gives the
      evaluations themselves, see :func:`check_budget`), or
      ``max_meta_steps`` meta-steps if that comes first (None: no limit);
    - the ``device`` and ``compile``.
    """
    parameters = {
        "split": ["validation"],
        "meta_objective": ["naive"],
        "val_fraction": ["auto"],
        "gradient": ["tbptt"],
        **estimator_parameters(),
        "truncation": [20],
        "meta_loss": ["final"],
        "budget": [DEFAULT_BUDGET],
        "max_meta_steps": [None],
        "select_every": [5],
        "meta_optimizer": ["adam"],
        "meta_lr": [1e-2],
        "device": ["auto"],
        "compile": ["auto"],
    }
    parameters.update(overrides)
    return parameters


class LearnedOptimizerSolver(MetaLearningSolver):
    """Base of the learned optimizers' solvers: a solver file sets
    ``name``, ``parameters = learned_optimizer_parameters(...)`` (the one
    recipe, with its overrides) and :meth:`make_optimizer`. The
    meta-objective: ``split`` ``"validation"`` (train-by-validation, on
    ``val_fraction``) or ``"train"`` (train-by-train); the loss
    (``meta_objective="naive"``) or its log, estimated by ``gradient``
    (``tbptt``: truncated backprop, of whole runs' final loss or of
    segments' average loss; ``online-pes``: online PES over
    truncations)."""

    def meta_setup(self):
        return MetaSetup(self.meta_objective, self.split, self.gradient,
                         self.val_fraction, self.estimator_options())
