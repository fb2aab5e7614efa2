"""The task-family contract: what a batch of tasks must and may offer.

A task family is a dataset (``datasets/<name>.py``) whose ``get_data``
returns a batch of meta-train tasks and a batch of held-out meta-test
tasks, each a :class:`TaskBatch`: B tasks whose parameters are the rows of
one (B, d) tensor, so that every inner optimizer, estimator and metric is
vectorised over tasks.

Required (a subclass that lacks one cannot be instantiated, or fails
:meth:`TaskBatch.validate` with the member's name):

==========================  ==============================================
``family``                  the family's name (str), for messages only
``w0``                      (B, d) start points, one row per task
``inner_grad(w, k)``        (B, d) gradient the inner optimizer follows at
                            step k (full batch or mini-batch k)
``inner_loss(w, k)``        (B,) the loss whose gradient that is
``loss(split)``             ``w -> (B,)`` loss on ``"train"``,
                            ``"validation"`` or ``"test"``; ValueError if
                            the batch has no such split
``metrics(w, horizon)``     plain floats at least ``value``,
                            ``train_loss``, ``log_objective``,
                            ``diverged_fraction``
                            (:data:`REQUIRED_METRICS`)
==========================  ==============================================

Optional capabilities, each with a safe default; callers ask for them and
never compare a family's name or class:

=================================  =======================================
capability                         default (what callers then do)
=================================  =======================================
``n_samples``, ``hold_out(f)``     None: no validation split (solvers that
                                   need one skip with the reason)
``validate_on_held_out()``,        a reason: no held-out samples of their
``held_out_unavailable()``         own (``val_fraction="held_out"`` skips)
``has_exact_gd``,                  False: no exact paths (``stable`` skips,
``exact_meta_objective``,          the evaluation runs the loop)
``exact_gd_metrics``
``spectrum_bounds()``              None: rules needing ``L``, ``mu`` skip
``optimal_step_size(T)``           None: no ``eta_star`` metric
``optimal_train_loss()``           None: Polyak's step skips
``layout``                         ``((d,),)``: one parameter tensor
``to(device)``                     the batch itself: it stays put
``restart(run)``                   the batch itself: a persistent run
                                   restarts from the same start
``take(rows)``                     for dataclass batches, the tasks at
                                   ``rows`` (every per-task tensor
                                   indexed); else None: no meta-validation
                                   tasks can be set apart (selection then
                                   scores fresh runs of the meta-train
                                   tasks)
``fresh()``                        the batch itself: nothing cached
=================================  =======================================
"""

from abc import ABC, abstractmethod
import dataclasses

import torch

from ..validation import check_split

DTYPES = {"float64": torch.float64, "float32": torch.float32}
SPLITS = ("train", "validation", "test")
REQUIRED_METRICS = ("value", "train_loss", "log_objective",
                    "diverged_fraction")


def make_generator(seed):
    """A torch random generator seeded with ``seed`` (any integer)."""
    return torch.Generator().manual_seed(int(seed) % (2 ** 63))


class TaskBatch(ABC):
    """A batch of B tasks of one family (see the module docstring).

    Subclasses set ``family`` and ``w0`` (attributes or dataclass fields)
    and implement the four abstract methods; they override an optional
    capability only where they have it.
    """

    family: str
    w0: torch.Tensor

    # -- required -----------------------------------------------------------

    @abstractmethod
    def inner_grad(self, w, step):
        """(B, d) gradient the inner optimizer follows at ``step``."""

    @abstractmethod
    def inner_loss(self, w, step):
        """(B,) loss whose gradient :meth:`inner_grad` is at ``step``."""

    @abstractmethod
    def loss(self, split):
        """The loss of ``split`` as a callable ``w (B, d) -> (B,)``."""

    @abstractmethod
    def metrics(self, w, horizon):
        """Meta-test metrics of ``w`` (B, d) after ``horizon`` steps, as a
        dict of plain floats with at least :data:`REQUIRED_METRICS`."""

    # -- derived ------------------------------------------------------------

    @property
    def n_tasks(self):
        return self.w0.shape[0]

    @property
    def dtype(self):
        return self.w0.dtype

    @property
    def device(self):
        return self.w0.device

    def validate(self):
        """Check the required data members; ValueError naming the first
        one missing or malformed (the objective calls this on the batches a
        dataset returns, so that a contributed family fails with a message,
        not deep inside a solver)."""
        name = type(self).__name__
        if not isinstance(getattr(self, "family", None), str):
            raise ValueError(f"task batch {name} must have a str 'family'")
        w0 = getattr(self, "w0", None)
        if not isinstance(w0, torch.Tensor) or w0.dim() != 2:
            raise ValueError(
                f"task batch {name} must have 'w0', a (B, d) tensor of "
                f"start points, got {type(w0).__name__}"
            )
        return self

    # -- optional: a validation split --------------------------------------

    @property
    def n_samples(self):
        """Training samples per task that :meth:`hold_out` can divide; None:
        the tasks have no samples (no validation split)."""
        return None

    def hold_out_unavailable(self):
        """Why these tasks cannot hold out a validation split, or None."""
        if self.n_samples is None:
            return (f"{self.family} tasks have no samples to hold out as a "
                    "validation split")
        return None

    def check_hold_out(self, val_fraction):
        """ValueError naming ``val_fraction`` unless it leaves a training and
        a validation sample in every task; nothing is split."""
        reason = self.hold_out_unavailable()
        if reason is not None:
            raise ValueError(reason)
        return check_split(val_fraction, self.n_samples)

    def hold_out(self, val_fraction):
        """These tasks with the last ``round(val_fraction n)`` training
        samples of each held out as its ``"validation"`` split."""
        raise ValueError(self.hold_out_unavailable()
                         or f"{self.family} tasks do not implement hold_out")

    def held_out_unavailable(self):
        """Why these tasks have no held-out samples of their own to
        validate on (:meth:`validate_on_held_out`), or None."""
        if self.n_samples is None:          # no samples at all
            return self.hold_out_unavailable()
        return (f"{self.family} tasks have no held-out samples of their own "
                "to validate on (val_fraction='held_out'); use a fraction "
                "of the training samples instead")

    def validate_on_held_out(self):
        """These tasks, trained on all their training samples, with their
        own held-out samples as the ``"validation"`` split (the paper's
        Section 5 train-by-validation, "n + n" samples)."""
        raise ValueError(self.held_out_unavailable())

    def split_part(self, split):
        """The attribute holding ``split``; ValueError if it is absent (a
        helper for :meth:`loss`)."""
        part = getattr(self, split, None) if split in SPLITS else None
        if part is None:
            raise ValueError(
                f"these {self.family} tasks have no {split!r} split; call "
                f"{type(self).__name__}.hold_out(val_fraction) first"
            )
        return part

    # -- optional: exact paths ---------------------------------------------

    #: full-batch gradient descent on these tasks has an exact closed form
    has_exact_gd = False

    def exact_meta_objective(self, objective, eta, horizon):
        """``(F, dF/deta)`` of ``objective`` after ``horizon`` GD steps with
        step ``eta``, exactly (float64 0-d tensors); only where
        :attr:`has_exact_gd`."""
        raise NotImplementedError(
            f"{self.family} tasks have no exact gradient-descent closed form")

    def exact_gd_metrics(self, eta, horizon):
        """:meth:`metrics` of ``horizon`` GD steps with step ``eta``,
        computed exactly; only where :attr:`has_exact_gd`."""
        raise NotImplementedError(
            f"{self.family} tasks have no exact gradient-descent closed form")

    def spectrum_bounds(self):
        """``(L, mu)``: the largest and smallest curvature of the training
        losses over tasks (float), or None where unknown."""
        return None

    def optimal_step_size(self, horizon):
        """``eta*`` of the log meta-objective at ``horizon``, or None."""
        return None

    def optimal_train_loss(self):
        """The optimal value ``f*`` of every task's training loss (float),
        or None where unknown."""
        return None

    # -- optional: layout, devices, persistent runs ------------------------

    @property
    def layout(self):
        """Shapes of the parameter tensors in a row of ``w0``, in order (a
        tuple of tuples; the row is their flattened concatenation): what
        optimizers that work per tensor (per-tensor normalisation, factored
        second moments) are bound to."""
        return ((self.w0.shape[1],),)

    def to(self, device):
        """These tasks on ``device``; by default they stay where they are."""
        return self

    def tile(self, copies):
        """``copies`` copies of these tasks in one batch (row ``c B + i`` is
        task ``i``, with its data, start and mini-batches), so that several
        runs of one task, each with its own hyper-parameters, go through one
        vectorised loop; None by default (the caller loops instead)."""
        return None

    def restart(self, run):
        """The tasks a persistent inner run number ``run`` starts from
        (``restart(0)`` is this batch); by default the same start."""
        return self

    def fresh(self):
        """These tasks without anything computed and cached on them, so that
        what one solver computed is not free for the next."""
        return self

    def take(self, rows):
        """The tasks at ``rows`` (a list of task indices) as a batch of
        their own, or None where this batch cannot say how.

        The default serves any dataclass batch: every tensor whose first
        dimension is the number of tasks B, in the batch's fields and in
        the dataclasses, tuples and lists they hold, is indexed by
        ``rows``; everything else is shared. Cached values are not carried
        over (the parts are new objects)."""
        if not dataclasses.is_dataclass(self):
            return None
        index = torch.as_tensor(list(rows), dtype=torch.long)
        return _take_rows(self, index, self.n_tasks)


def _take_rows(value, index, n_tasks):
    """``value`` with every per-task tensor (first dimension ``n_tasks``)
    indexed by ``index``, through dataclasses, tuples and lists."""
    if isinstance(value, torch.Tensor):
        if value.dim() >= 1 and value.shape[0] == n_tasks:
            return value[index.to(value.device)]
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: _take_rows(getattr(value, f.name), index, n_tasks)
            for f in dataclasses.fields(value) if f.init})
    if isinstance(value, (tuple, list)):
        return type(value)(_take_rows(v, index, n_tasks) for v in value)
    return value
