"""Drawing the linear task families: quadratics and least squares.

The datasets ``quadratic`` (paper Section 3) and ``least_squares`` (paper
Section 4) call these generators with a ``torch.Generator`` seeded by
benchopt, after :func:`check_family_parameters` has validated their
parameters.
"""

import torch

from ..validation import check_choice, check_float, check_int
from .base import DTYPES, make_generator
from .gd_closed_form import bmv
from .linear import LinearTasks, QuadraticLoss, Spectrum, sample_loss
from .sampler import MinibatchSchedule

SPECTRA = ("wishart", "linspace")


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
                             dtype=torch.float64, batch_size=None,
                             steps=None, held_out_gen=None):
    """Draw noisy linear-regression tasks (paper Section 4).

    ``w*`` uniform on the unit sphere, ``x ~ N(0, I)``,
    ``y = <w*, x> + noise * N(0, 1)``; training loss
    ``1/(2n) sum (y - <w, x>)^2`` over the task's samples, GD from 0; test
    loss = the exact population loss ``1/2 (||w - w*||^2 + noise^2)``.
    ``gen`` is the ``torch.Generator`` the tasks are drawn from.
    ``batch_size``: None = full-batch GD; an integer b = mini-batch SGD on
    b of the task's samples per step, in shuffled epochs over a schedule of
    ``steps`` steps (the longest run the tasks will see; then the exact
    paths, which need deterministic linear dynamics, do not apply).
    ``held_out_gen``: a second generator, from which each task draws
    ``n_samples`` held-out samples of its own (its ``held_out`` loss, what
    ``val_fraction="held_out"`` validates on); drawn apart from ``gen``,
    so that the tasks are the same with or without them.
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
    batch_seed, schedule = 0, None
    if batch_size is not None:     # drawn only then: full-batch tasks
        batch_seed = int(torch.randint(2 ** 62, (1,), generator=gen))
        if steps is None:
            raise ValueError("mini-batch least squares needs 'steps', the "
                             "length of its mini-batch schedule")
        schedule = MinibatchSchedule.draw(n_tasks, n_samples, batch_size,
                                          steps, make_generator(batch_seed))
    held_out = None
    if held_out_gen is not None:
        X_h = torch.randn(n_tasks, n_samples, dim, generator=held_out_gen,
                          dtype=torch.float64)
        xi_h = torch.randn(n_tasks, n_samples, generator=held_out_gen,
                           dtype=torch.float64)
        y_h = bmv(X_h, w_star.double()) + noise * xi_h
        held_out = sample_loss(X_h.to(dtype), y_h.to(dtype))
    return LinearTasks(
        "least_squares", torch.zeros_like(w_star), train=sample_loss(X, y),
        test=test, samples=(X, y), w_star=w_star, schedule=schedule,
        batch_seed=batch_seed, held_out=held_out,
    )


def check_family_parameters(**params):
    """Validate a linear family's parameters; return them normalised.

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
