"""Task families as batched tensors.

Every task of the step-size story (paper Sections 3 and 4) has losses that
are quadratic in the parameters ``w``. One class holds them all::

    f_j(w) = 1/2 ||P_j w - q_j||^2 + c_j            (one row j per task)

- quadratic ``1/2 w^T H w`` with ``H = P^T P``: ``q = 0``, ``c = 0``;
- least-squares training loss ``1/(2n) ||X w - y||^2``: ``P = X / sqrt(n)``,
  ``q = y / sqrt(n)``;
- least-squares population loss ``1/2 (||w - w*||^2 + sigma^2)``: ``P = I``
  (stored as ``None``), ``q = w*``, ``c = sigma^2 / 2``.

Gradient descent on such a loss is linear dynamics in ``w`` (plus a constant),
which is what makes exact, overflow-free meta-gradients possible (see
``unroll.gd_exact``). The residual form keeps losses accurate near zero, where
``1/2 w^T A w - b^T w + c`` would cancel.

A :class:`LinearTasks` batch bundles the start point ``w0``, the loss the
inner optimizer descends (``train``), the loss reported on meta-test
(``test``), an optional held-out ``validation`` loss, and, for families made
of samples, the samples themselves so that a solver can split them.
"""

from dataclasses import dataclass, replace
from functools import cached_property
import math

import torch

from .validation import check_choice, check_float, check_int, check_split

DTYPES = {"float64": torch.float64, "float32": torch.float32}
SPECTRA = ("wishart", "linspace")


def bmv(matrix, vector):
    """Batched matrix-vector product: (B, m, d) x (B, d) -> (B, m)."""
    return torch.matmul(matrix, vector.unsqueeze(-1)).squeeze(-1)


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

    def log_value_and_slope(self, it):
        """``log f(w_T)`` and ``d/deta log f(w_T)`` per task, in float64.

        ``it`` is a :class:`~benchmark_utils.unroll.ScaledIterate`:
        ``w_T = S w``, ``dw_T/deta = S t``. With the scaled residual
        ``rho = P w - q z`` (``z = 1/S``)::

            f(w_T) = S^2 (1/2 ||rho||^2 + c z^2)
            d/deta log f(w_T) = <rho, P t> / (1/2 ||rho||^2 + c z^2)

        so both are finite wherever ``f(w_T)`` over- or underflows.
        """
        form = self.float64
        z = it.z.unsqueeze(-1)
        rho = (it.w if form.P is None else bmv(form.P, it.w)) - form.q * z
        drho = it.tangent if form.P is None else bmv(form.P, it.tangent)
        scaled = 0.5 * rho.square().sum(-1) + form.c * it.z.square()
        log_f = 2.0 * it.log_scale + torch.log(scaled)
        return log_f, (rho * drho).sum(-1) / scaled

    @cached_property
    def spectrum(self):
        """:class:`Spectrum` of ``P^T P`` in float64.

        The defining one where the loss was built from its spectrum (then
        exact for the nominal task, not for ``P`` rounded to the dtype),
        else computed once from the SVD of ``P``.
        """
        if self.eigen is not None:
            return self.eigen
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

    def smoothness(self):
        """(B,) largest eigenvalue L of ``P^T P`` (float64)."""
        return self.spectrum.eigvals.max(-1).values


class TaskBatch:
    """What every task family's batch exposes from its start point ``w0``
    (B, d): the number of tasks, the dtype and the device."""

    @property
    def n_tasks(self):
        return self.w0.shape[0]

    @property
    def dtype(self):
        return self.w0.dtype

    @property
    def device(self):
        return self.w0.device

    def split_part(self, split):
        """The attribute holding ``split`` ("train", "validation",
        "test"); ValueError if this batch has no such split."""
        part = getattr(self, split)
        if part is None:
            raise ValueError(
                f"these {self.family} tasks have no {split!r} split; call "
                f"{type(self).__name__}.split(val_fraction) first"
            )
        return part


@dataclass(frozen=True, eq=False)
class LinearTasks(TaskBatch):
    """A batch of tasks whose losses are :class:`QuadraticLoss` es.

    ``family`` names the task family ("quadratic" or "least_squares").
    ``samples`` = (X, y) of shapes (B, n, d), (B, n) for families made of
    samples (needed to split them), else None. ``w_star`` (B, d) is the
    ground truth where one exists.
    """

    family: str
    w0: torch.Tensor                  # (B, d)
    train: QuadraticLoss
    test: QuadraticLoss
    validation: QuadraticLoss | None = None
    samples: tuple | None = None
    w_star: torch.Tensor | None = None
    batch_size: int | None = None     # None: full-batch gradient descent
    batch_seed: int = 0               # seed of the mini-batch order

    @property
    def full_batch(self):
        """True when the inner optimizer follows the full training
        gradient (linear dynamics: the exact paths apply)."""
        return self.batch_size is None

    def _minibatch(self, step):
        """The training loss's rows of mini-batch ``step`` as a
        :class:`QuadraticLoss` of ``1/(2b) ||X_B w - y_B||^2``.

        Each task visits its m training rows in a random order per epoch
        (seeded by ``batch_seed`` and the epoch), ``b = min(batch_size, m)``
        rows per step; with ``P = X / sqrt(m)`` the mini-batch loss is
        ``m/b * 1/2 ||P_B w - q_B||^2``, an unbiased estimate of the full
        training loss.
        """
        P, q = self.train.P, self.train.q
        B, m, d = P.shape
        b = min(self.batch_size, m)
        per_epoch = m // b
        epoch, pos = divmod(step, per_epoch)
        gen = make_generator(self.batch_seed * 1_000_003 + epoch)
        order = torch.argsort(torch.rand(B, m, generator=gen), dim=-1)
        rows = order[:, pos * b:(pos + 1) * b].to(P.device)
        scale = math.sqrt(m / b)
        P_B = P.gather(1, rows.unsqueeze(-1).expand(B, b, d)) * scale
        q_B = q.gather(1, rows) * scale
        return QuadraticLoss(P_B, q_B, self.train.c)

    def inner_grad(self, w, step):
        """Gradient the inner optimizer follows at ``step``: the full
        training loss's (deterministic, the same at every step), or with
        ``batch_size`` set that of mini-batch ``step``."""
        if self.full_batch:
            return self.train.grad(w)
        return self._minibatch(step).grad(w)

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
                       validation=fresh_loss(self.validation))

    def inner_loss(self, w, step):
        """Loss of every task at ``w`` (B, d) -> (B,) whose gradient is
        :meth:`inner_grad` at ``step``: the full training loss, or the
        mini-batch's."""
        if self.full_batch:
            return self.train(w)
        return self._minibatch(step)(w)

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

    @property
    def is_affine(self):
        """(B,) bool: some loss of the task has a linear or constant part."""
        forms = [self.train, self.test, self.validation]
        out = torch.zeros(self.n_tasks, dtype=torch.bool)
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

    def loss(self, split):
        """The loss of a split: "train", "validation" or "test"."""
        return self.split_part(split)

    def split(self, val_fraction):
        """Split each task's samples: GD trains on the first part.

        The first ``n - n_val`` samples, with ``n_val = round(val_fraction
        * n)``, become the training loss, the last ``n_val`` the validation
        loss (the paper's train-by-validation, Section 4).
        """
        if self.samples is None:
            raise ValueError(
                f"{self.family} tasks have no samples to split into a "
                "training and a validation part"
            )
        X, y = self.samples
        _, n_val = check_split(val_fraction, X.shape[1])
        return replace(
            self,
            train=_sample_loss(X[:, :-n_val], y[:, :-n_val]),
            validation=_sample_loss(X[:, -n_val:], y[:, -n_val:]),
            samples=None,
        )


def _sample_loss(X, y):
    """``1/(2n) ||X w - y||^2`` as a :class:`QuadraticLoss`."""
    root_n = math.sqrt(X.shape[1])
    return QuadraticLoss(X / root_n, y / root_n, torch.zeros_like(y[:, 0]))


def make_generator(seed):
    """A torch random generator seeded with ``seed`` (any integer)."""
    return torch.Generator().manual_seed(int(seed) % (2 ** 63))


def quadratic_tasks(eigvals, basis, coeffs, dtype=torch.float64):
    """Quadratics ``1/2 w^T H w`` with ``H = basis diag(eigvals) basis^T``.

    ``coeffs`` are the start point's coordinates in the eigenbasis
    (``w0 = basis coeffs``, the paper's ``c_i = <w0, u_i>``). All (B, ...).
    """
    eigvals = torch.as_tensor(eigvals, dtype=torch.float64)
    basis = torch.as_tensor(basis, dtype=torch.float64)
    coeffs = torch.as_tensor(coeffs, dtype=torch.float64)
    P = eigvals.sqrt().unsqueeze(-1) * basis.transpose(-1, -2)
    w0 = bmv(basis, coeffs)
    eigen = Spectrum(eigvals, basis, torch.zeros_like(eigvals))
    return _quadratic_from_factor(P, w0, dtype, eigen)


def _quadratic_from_factor(P, w0, dtype, eigen=None):
    B, m, _ = P.shape
    loss = QuadraticLoss(
        P, torch.zeros(B, m, dtype=torch.float64),
        torch.zeros(B, dtype=torch.float64), eigen,
    ).to(dtype)
    return LinearTasks("quadratic", w0.to(dtype), train=loss, test=loss)


def make_quadratic_tasks(n_tasks, dim, spectrum, condition_number, gen,
                         dtype=torch.float64):
    """Draw ``n_tasks`` quadratics ``f(w) = 1/2 w^T H w`` (paper Section 3).

    - ``wishart``: ``H = X^T X``, X a dim x dim standard Gaussian matrix
      (not rescaled: L is about 4 dim), ``w0`` standard Gaussian.
    - ``linspace``: eigenvalues evenly spaced in [1/condition_number, 1]
      (L = 1), ``w0`` with ``c_i^2 = 1/dim`` on every eigenvector, in a
      random orthonormal basis per task.

    ``gen`` is the ``torch.Generator`` the tasks are drawn from.
    """
    shape = (n_tasks, dim, dim)
    if spectrum == "wishart":
        X = torch.randn(shape, generator=gen, dtype=torch.float64)
        w0 = torch.randn(n_tasks, dim, generator=gen, dtype=torch.float64)
        return _quadratic_from_factor(X, w0, dtype)
    eigvals = torch.linspace(1.0, 1.0 / condition_number, dim,
                             dtype=torch.float64).flip(0)
    Q, R = torch.linalg.qr(torch.randn(shape, generator=gen,
                                       dtype=torch.float64))
    basis = Q * torch.sign(torch.diagonal(R, dim1=-2, dim2=-1)).unsqueeze(-2)
    coeffs = torch.full((n_tasks, dim), dim ** -0.5, dtype=torch.float64)
    return quadratic_tasks(eigvals.expand(n_tasks, dim), basis, coeffs, dtype)


def make_least_squares_tasks(n_tasks, dim, n_samples, noise, gen,
                             dtype=torch.float64, batch_size=None):
    """Draw noisy linear-regression tasks (paper Section 4).

    ``w*`` uniform on the unit sphere, ``x ~ N(0, I)``,
    ``y = <w*, x> + noise * N(0, 1)``; training loss
    ``1/(2n) sum (y - <w, x>)^2`` over the task's samples, GD from 0; test
    loss = the exact population loss ``1/2 (||w - w*||^2 + noise^2)``.
    ``gen`` is the ``torch.Generator`` the tasks are drawn from.
    ``batch_size``: None = full-batch GD; an integer b = mini-batch SGD on
    b of the task's samples per step (then the exact paths, which need
    linear deterministic dynamics, do not apply).
    """
    w_star = torch.randn(n_tasks, dim, generator=gen, dtype=torch.float64)
    w_star = w_star / w_star.norm(dim=-1, keepdim=True)
    X = torch.randn(n_tasks, n_samples, dim, generator=gen,
                    dtype=torch.float64)
    xi = torch.randn(n_tasks, n_samples, generator=gen, dtype=torch.float64)
    y = bmv(X, w_star) + noise * xi
    X, y, w_star = X.to(dtype), y.to(dtype), w_star.to(dtype)
    test = QuadraticLoss(
        None, w_star, torch.full((n_tasks,), noise ** 2 / 2, dtype=dtype)
    )
    batch_seed = 0
    if batch_size is not None:     # drawn only then: full-batch tasks
        batch_seed = int(torch.randint(2 ** 62, (1,), generator=gen))
    return LinearTasks(
        "least_squares", torch.zeros_like(w_star), train=_sample_loss(X, y),
        test=test, samples=(X, y), w_star=w_star, batch_size=batch_size,
        batch_seed=batch_seed,
    )


def check_family_parameters(**params):
    """Validate a task family's parameters; return them normalised.

    Raises ValueError naming the parameter and its allowed values.
    """
    out = {}
    for key in ("dim", "n_train_tasks", "n_test_tasks", "horizon",
                "n_samples"):
        if key in params:
            out[key] = check_int(key, params[key])
    for key in ("eval_horizon", "batch_size"):     # None = the default
        if params.get(key) is not None:
            out[key] = check_int(key, params[key])
        elif key in params:
            out[key] = None
    if "noise" in params:
        out["noise"] = check_float("noise", params["noise"], low=0.0)
    if "spectrum" in params:
        out["spectrum"] = check_choice("spectrum", params["spectrum"], SPECTRA)
    if "condition_number" in params:
        out["condition_number"] = check_float(
            "condition_number", params["condition_number"], low=1.0
        )
    out["dtype"] = DTYPES[check_choice("dtype", params["dtype"], DTYPES)]
    return out
