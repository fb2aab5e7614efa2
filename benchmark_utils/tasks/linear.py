"""Linear task families: every loss quadratic in the parameters.

Every task of the step-size story (paper Sections 3 and 4) has losses that
are quadratic in the parameters ``w``; one class holds them all::

    f_j(w) = 1/2 ||P_j w - q_j||^2 + c_j            (one row j per task)

- quadratic ``1/2 w^T H w`` with ``H = P^T P``: ``q = 0``, ``c = 0``;
- least-squares training loss ``1/(2n) ||X w - y||^2``: ``P = X / sqrt(n)``,
  ``q = y / sqrt(n)``;
- least-squares population loss ``1/2 (||w - w*||^2 + sigma^2)``: ``P = I``
  (stored as ``None``), ``q = w*``, ``c = sigma^2 / 2``.

Gradient descent on such a loss is linear dynamics in ``w`` (plus a
constant): the exact, overflow-free closed form of
:mod:`~.gd_closed_form` gives the meta-objective, its derivative and the
metrics for any T, which :class:`LinearTasks` offers as its exact-path
capabilities. The residual form keeps losses accurate near zero, where
``1/2 w^T A w - b^T w + c`` would cancel.
"""

from dataclasses import dataclass, replace
from functools import cached_property
import math

import torch

from . import gd_closed_form
from .base import TaskBatch, make_generator
from .gd_closed_form import bmv
from .sampler import MinibatchSchedule, gather_rows
from ..quadratic_theory import optimal_step_size


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Eigen-decomposition of a batch of Gram matrices ``A = P^T P``.

    ``A_j = V_j diag(eigvals_j) V_j^T`` with ``V_j`` of shape (d, k) with
    orthonormal columns (k = min(m, d)), and ``b_j = P_j^T q_j = V_j beta_j``.
    Always float64: it feeds the exact references.
    """

    eigvals: torch.Tensor   # (B, k), >= 0
    basis: torch.Tensor     # (B, d, k)
    beta: torch.Tensor      # (B, k)


@dataclass(frozen=True, eq=False)
class QuadraticLoss:
    """Batched ``f_j(w) = 1/2 ||P_j w - q_j||^2 + c_j``."""

    P: torch.Tensor | None  # (B, m, d), None = identity (m = d)
    q: torch.Tensor         # (B, m)
    c: torch.Tensor         # (B,)
    eigen: Spectrum | None = None   # the defining spectrum, when known

    def residual(self, w):
        """``P w - q``, shape (B, m)."""
        return (w if self.P is None else bmv(self.P, w)) - self.q

    def __call__(self, w):
        """Loss of every task at ``w`` (B, d) -> (B,)."""
        return 0.5 * self.residual(w).square().sum(-1) + self.c

    def grad(self, w):
        """``P^T (P w - q)``, shape (B, d)."""
        r = self.residual(w)
        return r if self.P is None else bmv(self.P.transpose(-1, -2), r)

    def to(self, dtype):
        """This loss stored in ``dtype``; a lower precision drops the
        defining spectrum, so that exact computations describe the task as
        stored."""
        return QuadraticLoss(
            None if self.P is None else self.P.to(dtype),
            self.q.to(dtype), self.c.to(dtype),
            self.eigen if dtype == torch.float64 else None,
        )

    @property
    def is_affine(self):
        """(B,) bool: the task's loss has a linear or constant part."""
        return (self.q != 0).any(-1) | (self.c != 0)

    @cached_property
    def float64(self):
        """This loss in float64 (itself if it already is)."""
        if self.q.dtype == torch.float64:
            return self
        return self.to(torch.float64)

    def on(self, device):
        """This loss with its tensors on ``device``; the defining
        spectrum, an exact float64 path, stays on the CPU."""
        def move(x):
            return None if x is None else x.to(device)

        return QuadraticLoss(move(self.P), move(self.q), move(self.c),
                             self.eigen)

    @cached_property
    def spectrum(self):
        """:class:`Spectrum` of ``P^T P`` in float64, on the CPU.

        The defining one where the loss was built from its spectrum (then
        exact for the nominal task, not for ``P`` rounded to the dtype),
        else computed once from the SVD of ``P``.
        """
        if self.eigen is not None:
            return self.eigen
        if self.q.device.type != "cpu":
            return self.on("cpu").spectrum
        q = self.q.double()
        if self.P is None:
            B, d = q.shape
            eye = torch.eye(d, dtype=torch.float64).expand(B, d, d)
            return Spectrum(torch.ones(B, d, dtype=torch.float64), eye, q)
        eigvals, bases, betas = [], [], []
        for P, q_j in zip(self.P.double(), q):   # one task at a time: the
            U, s, Vh = torch.linalg.svd(P, full_matrices=False)  # U is m x k
            eigvals.append(s.square())
            bases.append(Vh.T)
            betas.append(s * (U.T @ q_j))
        return Spectrum(torch.stack(eigvals), torch.stack(bases),
                        torch.stack(betas))

    @property
    def spectrum_is_cached(self):
        """True once :attr:`spectrum` is known without further work."""
        return self.eigen is not None or "spectrum" in vars(self)

    def smoothness(self):
        """(B,) largest eigenvalue L of ``P^T P`` (float64)."""
        return self.spectrum.eigvals.max(-1).values


@dataclass(frozen=True, eq=False)
class LinearTasks(TaskBatch):
    """A batch of tasks whose losses are :class:`QuadraticLoss` es.

    ``family`` names the task family ("quadratic" or "least_squares").
    ``samples`` = (X, y) of shapes (B, n, d), (B, n) for families made of
    samples (needed to hold some out), else None. ``held_out``: the loss on
    each task's own held-out samples, never trained on (what
    :meth:`validate_on_held_out` validates on), or None. ``w_star`` (B, d)
    is the ground truth where one exists. ``schedule``: None = full-batch
    gradient descent (linear dynamics: the exact paths apply); a
    :class:`~.sampler.MinibatchSchedule` = mini-batch SGD on the training
    samples, ``1/(2b) ||X_B w - y_B||^2`` per step (``batch_seed`` seeds
    its redraw after a hold-out).
    """

    family: str
    w0: torch.Tensor                  # (B, d)
    train: QuadraticLoss
    test: QuadraticLoss
    validation: QuadraticLoss | None = None
    samples: tuple | None = None
    w_star: torch.Tensor | None = None
    schedule: MinibatchSchedule | None = None
    batch_seed: int = 0
    held_out: QuadraticLoss | None = None

    # -- the contract ------------------------------------------------------

    def _minibatch(self, step):
        """The training loss's rows of mini-batch ``step`` as a
        :class:`QuadraticLoss`: with ``P = X / sqrt(m)`` and b rows per
        batch, ``m/b * 1/2 ||P_B w - q_B||^2``, an unbiased estimate of the
        full training loss."""
        P, q = self.train.P, self.train.q
        rows = self.schedule.rows(step).to(P.device)
        scale = math.sqrt(P.shape[1] / rows.shape[1])
        return QuadraticLoss(gather_rows(P, rows) * scale,
                             gather_rows(q, rows) * scale, self.train.c)

    def inner_grad(self, w, step):
        """Gradient the inner optimizer follows at ``step``: the full
        training loss's (deterministic, the same at every step), or that of
        mini-batch ``step``."""
        if self.schedule is None:
            return self.train.grad(w)
        return self._minibatch(step).grad(w)

    def inner_loss(self, w, step):
        """Loss (B,) whose gradient is :meth:`inner_grad` at ``step``."""
        if self.schedule is None:
            return self.train(w)
        return self._minibatch(step)(w)

    def loss(self, split):
        """The loss of a split: "train", "validation" or "test"."""
        return self.split_part(split)

    def metrics(self, w, horizon):
        """Meta-test metrics of parameters ``w`` (B, d) reached after
        ``horizon`` steps, as plain floats computed in float64: ``value``
        (mean test loss; a task whose loss is not finite counts +inf),
        ``train_loss``, ``log_objective`` (mean ``(1/T) log`` test loss),
        ``diverged_fraction`` and, where ``w*`` is known, ``excess_risk``.
        """
        def finite_or_inf(x):
            return torch.where(torch.isfinite(x), x, math.inf)

        w = w.double()
        test = finite_or_inf(self.test.float64(w))
        out = dict(
            value=float(test.mean()),
            train_loss=float(finite_or_inf(self.train.float64(w)).mean()),
            log_objective=float(torch.log(test).mean()) / horizon,
            diverged_fraction=float(torch.isinf(test).double().mean()),
        )
        if self.w_star is not None:
            gap = (w - self.w_star.double()).square().sum(-1)
            out["excess_risk"] = float(finite_or_inf(gap).mean())
        return out

    # -- capabilities ------------------------------------------------------

    @property
    def n_samples(self):
        return None if self.samples is None else self.samples[0].shape[1]

    def hold_out(self, val_fraction):
        """Hold out each task's last ``round(val_fraction n)`` samples: GD
        trains on the first part, the rest is the validation loss (the
        paper's train-by-validation, Section 4); a mini-batch schedule is
        redrawn for the smaller training set."""
        n_train, n_val = self.check_hold_out(val_fraction)
        X, y = self.samples
        schedule = self.schedule
        if schedule is not None:
            schedule = schedule.redraw(n_train,
                                       make_generator(self.batch_seed + 1))
        return replace(
            self,
            train=sample_loss(X[:, :-n_val], y[:, :-n_val]),
            validation=sample_loss(X[:, -n_val:], y[:, -n_val:]),
            samples=None, schedule=schedule,
        )

    def held_out_unavailable(self):
        if self.held_out is None:
            return super().held_out_unavailable()
        return None

    def validate_on_held_out(self):
        """These tasks, trained on all their samples, validated on their
        own held-out samples (the paper's Section 5 "n + n")."""
        if self.held_out is None:
            return super().validate_on_held_out()
        return replace(self, validation=self.held_out)

    @property
    def has_exact_gd(self):
        """Full-batch GD is linear dynamics: exact paths apply."""
        return self.schedule is None

    @cached_property
    def host(self):
        """These tasks on the CPU, where the exact float64 paths run
        whatever the tasks' device (itself for tasks on the CPU)."""
        return self if self.device.type == "cpu" else self.to("cpu")

    def exact_meta_objective(self, objective, eta, horizon):
        """Computed on the CPU (:attr:`host`): 0-d float64 CPU tensors."""
        return gd_closed_form.exact_meta_objective(self.host, objective, eta,
                                                   horizon)

    def exact_gd_metrics(self, eta, horizon):
        return gd_closed_form.exact_metrics(self.host, eta, horizon)

    @property
    def exact_gd_cost(self):
        """Inner-gradient equivalents of one exact evaluation: one product
        with each task's eigenbasis, plus, the first time, the SVD of each
        task's training factor (about ``min(m, d)`` gradients) unless the
        spectrum is known."""
        train = self.host.train
        first = not train.spectrum_is_cached and train.P is not None
        svd = min(train.P.shape[-2:]) if first else 0
        return self.n_tasks * (1 + svd)

    def spectrum_bounds(self):
        """``(L, mu)``: the largest and smallest training-loss eigenvalue
        over tasks on the subspace gradient descent moves in (the range of
        ``P^T``; with fewer samples than dimensions the Hessian's zero
        eigenvalues lie outside it)."""
        eigvals = self.host.train.spectrum.eigvals
        return float(eigvals.max()), float(eigvals.min())

    def optimal_step_size(self, horizon):
        """``eta*`` of the mean ``(1/T) log f(w_T)`` over these tasks, for
        purely quadratic training losses (the paper's Section 3); None
        where the loss has a linear part."""
        if bool(self.train.is_affine.any()):
            return None
        return optimal_step_size(*self.host.eigen_coordinates(), horizon)

    def optimal_train_loss(self):
        """0 for purely quadratic training losses (``f >= 0 = f(0)``), else
        unknown (None)."""
        return None if bool(self.train.is_affine.any()) else 0.0

    def to(self, device):
        """These tasks on ``device`` (the exact paths still run on the
        CPU, see :attr:`host`)."""
        device = torch.device(device)
        if device == self.device:
            return self

        def move(x):
            return None if x is None else x.to(device)

        def move_loss(form):
            return None if form is None else form.on(device)

        return replace(
            self, w0=move(self.w0), train=move_loss(self.train),
            test=move_loss(self.test),
            validation=move_loss(self.validation),
            held_out=move_loss(self.held_out),
            samples=None if self.samples is None else tuple(
                move(x) for x in self.samples),
            w_star=move(self.w_star),
            schedule=None if self.schedule is None else self.schedule.to(
                device),
        )

    def fresh(self):
        """These tasks, sharing their tensors, without what was computed
        and cached on them (spectra, float64 copies): the objective hands
        every solver such a copy, so that what one solver computed is not
        free for the next and the reported costs do not depend on the
        order the solvers run in."""
        def fresh_loss(form):
            return None if form is None else replace(form)

        return replace(self, train=fresh_loss(self.train),
                       test=fresh_loss(self.test),
                       validation=fresh_loss(self.validation),
                       held_out=fresh_loss(self.held_out))

    # -- helpers -----------------------------------------------------------

    @property
    def is_affine(self):
        """(B,) bool: some loss of the task has a linear or constant part."""
        forms = [self.train, self.test, self.validation]
        out = torch.zeros(self.n_tasks, dtype=torch.bool, device=self.device)
        for form in forms:
            if form is not None:
                out = out | form.is_affine
        return out

    def eigen_coordinates(self):
        """``(lambda, c)`` of the training loss, float64 numpy, (B, k) each.

        ``lambda`` are the eigenvalues of ``P^T P`` and ``c_i = <w0, u_i>``
        the start point's coordinates on its eigenvectors (paper Section 3).
        """
        spec = self.train.spectrum
        coeffs = bmv(spec.basis.transpose(-1, -2), self.w0.double())
        return spec.eigvals.numpy(), coeffs.numpy()


def sample_loss(X, y):
    """``1/(2n) ||X w - y||^2`` as a :class:`QuadraticLoss`."""
    root_n = math.sqrt(X.shape[1])
    return QuadraticLoss(X / root_n, y / root_n, torch.zeros_like(y[:, 0]))
