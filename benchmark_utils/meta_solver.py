"""What the step-size solvers share: the meta-problem and the solver base.

:func:`step_size_problem` builds the meta-problem of learning the step size
of gradient descent (splitting the tasks for train-by-validation);
:class:`MetaLearningSolver` is the base of the solvers that learn it by
meta-gradients: a solver file only declares its parameters and, in
:meth:`~MetaLearningSolver.meta_setup`, its meta-objective, split and
estimator; this class checks the parameters and runs
:class:`~benchmark_utils.meta_train.MetaTrainer`, one benchopt iteration per
meta-step (``sampling_strategy = "callback"``), until ``theta`` stalls
(:attr:`~benchmark_utils.meta_train.MetaTrainer.stalled`) or benchopt's
budget (``--timeout``, ``--max-runs``) ends the run.

Shared parameters: ``eta0`` (initial step size, > 0), ``meta_optimizer``
(see :mod:`benchmark_utils.meta_optimizers`) and ``meta_lr`` (None = the
meta-optimizer's default). A solver that lets the user choose the
estimator (``gradient``) also declares its options ``truncation``,
``sigma`` and ``pairs`` (None = the estimator's default; see
:func:`~benchmark_utils.meta_gradients.get_estimator`); stochastic
estimators are seeded with benchopt's ``get_seed(use_repetition=True)``,
so a run repeats and ``--n-repetitions`` draws afresh.
"""

import torch
from benchopt import BaseSolver

from .inner_optimizers import GradientDescent
from .meta_gradients import STOCHASTIC, get_estimator
from .meta_objectives import MetaObjective, MetaProblem
from .meta_optimizers import make_meta_optimizer
from .meta_train import MetaTrainer
from .validation import (
    check_choice, check_float, check_positive, check_split,
)

# the meta-optimizers of a scalar step size (adam and rmsprop are for the
# neural optimizer's weights: unprojected, they can make eta negative)
STEP_SIZE_META_OPTIMIZERS = ("brent", "projected-gd")


def check_meta_objective(kind, split, val_fraction):
    """Check the meta-objective's ``kind``, ``split`` and, for
    ``split="validation"``, ``val_fraction`` in (0, 1)."""
    MetaObjective(kind, split)
    if split == "validation":
        check_val_fraction(val_fraction)


def check_val_fraction(val_fraction):
    """``val_fraction`` in (0, 1). Solvers that have the parameter check it
    whatever their split, also ``split="train"`` where it is unused, so that
    a typo in a sweep fails at once."""
    return check_float("val_fraction", val_fraction, 0.0, 1.0, True, True)


def check_split_fits(tasks, split, val_fraction):
    """For ``split="validation"``, check that ``val_fraction`` leaves a
    training and a validation sample in every task (ValueError naming
    ``val_fraction`` otherwise), without splitting anything."""
    samples = getattr(tasks, "samples", None)
    if split == "validation" and samples is not None:
        check_split(val_fraction, samples[0].shape[1])


def split_unavailable(tasks, split):
    """The reason ``split`` cannot be used on ``tasks``, or None."""
    if split == "validation" and tasks.samples is None:
        return (f"{tasks.family} tasks have no samples to split into "
                "training and validation parts")
    return None


def step_size_problem(tasks, horizon, kind, split, val_fraction=None):
    """The meta-problem of learning GD's step size on ``tasks``.

    ``kind`` and ``split`` choose the meta-objective; for
    ``split="validation"`` each task's samples are split with
    ``val_fraction`` (train-by-validation).
    """
    objective = MetaObjective(kind, split)
    if split == "validation":
        tasks = tasks.split(val_fraction)
    return MetaProblem(tasks, GradientDescent(), objective, horizon)


class MetaLearningSolver(BaseSolver):
    """Meta-learn the step size of gradient descent on the meta-train tasks.

    Subclasses define ``name``, ``parameters`` and :meth:`meta_setup`. Do not
    give this class an attribute named like a parameter: benchopt would not
    overwrite it with the parameter's value.
    """

    sampling_strategy = "callback"
    estimator_options = ("truncation", "sigma", "pairs")

    def meta_setup(self):
        """Return a dict with ``kind``, ``split``, ``gradient`` and, for
        ``split="validation"``, ``val_fraction``."""
        raise NotImplementedError

    def _checked_setup(self):
        setup = {"val_fraction": None, **self.meta_setup()}
        check_positive("eta0", self.eta0)
        check_choice("meta_optimizer", self.meta_optimizer,
                     STEP_SIZE_META_OPTIMIZERS)
        make_meta_optimizer(self.meta_optimizer, self.meta_lr)  # checks both
        setup["options"] = {key: getattr(self, key, None)
                            for key in self.estimator_options}
        get_estimator(setup["gradient"], **setup["options"])
        check_meta_objective(setup["kind"], setup["split"],
                             setup["val_fraction"])
        return setup

    def skip(self, tasks, horizon):
        setup = self._checked_setup()
        reason = split_unavailable(tasks, setup["split"])
        if reason is None:
            problem = step_size_problem(
                tasks, horizon, setup["kind"], setup["split"],
                setup["val_fraction"],
            )
            reason = get_estimator(
                setup["gradient"], **setup["options"]).unsupported(problem)
        return reason is not None, reason

    def set_objective(self, tasks, horizon):
        setup = self._checked_setup()
        self.problem = step_size_problem(
            tasks, horizon, setup["kind"], setup["split"],
            setup["val_fraction"],
        )
        self.estimator_config = dict(setup["options"],
                                     gradient=setup["gradient"])
        if setup["gradient"] in STOCHASTIC:
            self.estimator_config["seed"] = self.get_seed(use_repetition=True)
        # raises now on an option that does not fit (truncation > T)
        get_estimator(**self.estimator_config).unsupported(self.problem)

    def run(self, callback):
        # a fresh estimator per run: a stochastic one replays its noise
        self.estimator = get_estimator(**self.estimator_config)
        self.trainer = MetaTrainer(
            self.problem, self.estimator,
            make_meta_optimizer(self.meta_optimizer, self.meta_lr),
            torch.tensor(float(self.eta0), dtype=torch.float64),
        )
        while callback() and not self.trainer.stalled:
            self.trainer.step()

    def get_result(self):
        return dict(learned=self.trainer.result())
