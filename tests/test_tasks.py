"""Task families: what the datasets draw is what the paper specifies."""

import math

import numpy as np
import pytest
import torch

from benchmark_utils.optimizers import GradientDescent
from benchmark_utils.tasks import (
    gd_exact, make_generator, make_least_squares_tasks, make_quadratic_tasks,
)
from benchmark_utils.unroll import unroll
from conftest import float64, log_eta, make_dataset, make_objective


def test_wishart_is_unscaled_gaussian_gram():
    tasks = make_quadratic_tasks(4, 40, "wishart", 1.0, make_generator(0))
    L = tasks.train.smoothness()
    assert ((L > 2.5 * 40) & (L < 4.5 * 40)).all()      # L ~ 4 dim
    H = tasks.train.P.transpose(-1, -2) @ tasks.train.P
    lam, _ = tasks.eigen_coordinates()
    assert np.allclose(np.sort(lam, -1), torch.linalg.eigvalsh(H).numpy())


def test_linspace_spectrum_and_start():
    tasks = make_quadratic_tasks(3, 10, "linspace", 50.0, make_generator(0))
    lam, c = tasks.eigen_coordinates()
    assert np.allclose(lam, np.linspace(1 / 50, 1, 10))
    assert np.allclose(c ** 2, 1 / 10)
    assert np.allclose(tasks.w0.norm(dim=-1), 1.0)
    H = tasks.train.P.transpose(-1, -2) @ tasks.train.P
    assert np.allclose(torch.linalg.eigvalsh(H), np.linspace(1 / 50, 1, 10))


def test_least_squares_tasks():
    tasks = make_least_squares_tasks(5, 30, 20, 0.5, make_generator(0))
    assert torch.allclose(tasks.w_star.norm(dim=-1), float64(1.0))
    X, y = tasks.samples
    assert X.shape == (5, 20, 30) and y.shape == (5, 20)
    w = torch.randn(5, 30, dtype=torch.float64)
    train = 0.5 * ((X @ w.unsqueeze(-1)).squeeze(-1) - y).square().mean(-1)
    assert torch.allclose(tasks.train(w), train)
    population = 0.5 * ((w - tasks.w_star).square().sum(-1) + 0.25)
    assert torch.allclose(tasks.test(w), population)


def test_hold_out_keeps_sample_order_and_sizes():
    tasks = make_least_squares_tasks(2, 4, 10, 0.1, make_generator(0))
    split = tasks.hold_out(0.3)
    X, y = tasks.samples
    assert split.train.P.shape[1] == 7 and split.validation.P.shape[1] == 3
    assert torch.allclose(split.validation.P, X[:, 7:] / math.sqrt(3))
    assert torch.allclose(split.train.q, y[:, :7] / math.sqrt(7))


def test_float32_tasks_compute_in_float32():
    tasks = make_quadratic_tasks(2, 6, "wishart", 1.0, make_generator(0),
                                 torch.float32)
    w = unroll(tasks, GradientDescent(), log_eta(0.01), 5)
    assert w.dtype == torch.float32


@pytest.mark.parametrize("eta", [0.0, 0.01, 0.3, 0.5])
def test_gd_exact_equals_the_loop(eta):
    """The closed form is the loop, for affine dynamics with n < d too."""
    tasks = make_least_squares_tasks(3, 12, 8, 0.3, make_generator(1))
    loop = unroll(tasks, GradientDescent(), log_eta(eta), 30)
    it = gd_exact(tasks, float(torch.exp(log_eta(eta))), 30)
    exact = torch.exp(it.log_scale).unsqueeze(-1) * it.w
    assert torch.allclose(exact, loop, rtol=1e-10, atol=1e-12)


def test_repetitions_draw_different_tasks(bench):
    dataset = make_dataset(bench, "least_squares", dim=5, n_samples=4)
    first = make_objective(bench, dataset, repetition=0).train_tasks
    again = make_objective(bench, dataset, repetition=0).train_tasks
    other = make_objective(bench, dataset, repetition=1).train_tasks
    assert torch.equal(first.samples[0], again.samples[0])
    assert not torch.equal(first.samples[0], other.samples[0])


def test_single_quadratic_is_its_own_meta_test_task(bench):
    dataset = make_dataset(bench, "quadratic", n_train_tasks=1,
                           n_test_tasks=5)
    objective = make_objective(bench, dataset)
    assert objective.test_tasks is objective.train_tasks
