"""The mlp task family: exact gradients, honest data splits, labels."""

import math

import numpy as np
import pytest
import torch

from benchmark_utils.image_data import load_digits
from benchmark_utils.tasks import make_generator
from benchmark_utils.tasks.mlp import (
    ACTIVATIONS, cross_entropy, logits, loss_and_grad, make_mlp_tasks,
)
from benchmark_utils.tasks.sampler import epoch_batches
from conftest import make_dataset, make_objective


def small_tasks(n_tasks=3, n_samples=60, label_noise=0.0, hidden=(16, 8),
                dtype=torch.float64, horizon=30, seed=0):
    X, y = load_digits()
    return make_mlp_tasks(X, y, n_tasks, n_samples, 100, hidden, 16,
                          label_noise, horizon, make_generator(seed), dtype)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_written_out_backward_is_autograd(activation):
    tasks = small_tasks()
    X, y = tasks._batch(3)
    w = tasks.w0.clone().requires_grad_(True)
    loss = cross_entropy(logits(w, X, tasks.sizes, activation), y).mean(-1)
    (expected,) = torch.autograd.grad(loss.sum(), w)
    value, grad = loss_and_grad(tasks.w0, X, y, tasks.sizes, activation)
    torch.testing.assert_close(value, loss.detach(), rtol=1e-14, atol=0)
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_second_derivatives_flow_through_the_written_out_backward(
        activation):
    # forward mode through loss_and_grad = autograd's Hessian-vector product
    tasks = small_tasks()
    X, y = tasks._batch(0)
    v = torch.randn(tasks.w0.shape, generator=make_generator(1),
                    dtype=torch.float64)
    _, hvp = torch.func.jvp(
        lambda w: loss_and_grad(w, X, y, tasks.sizes, activation)[1],
        (tasks.w0,), (v,))
    w = tasks.w0.clone().requires_grad_(True)
    loss = cross_entropy(logits(w, X, tasks.sizes, activation),
                         y).mean(-1).sum()
    (g,) = torch.autograd.grad(loss, w, create_graph=True)
    (expected,) = torch.autograd.grad((g * v).sum(), w)
    torch.testing.assert_close(hvp, expected, rtol=1e-10, atol=1e-14)


def test_the_activation_is_the_tasks_own():
    X, y = load_digits()
    relu = small_tasks()
    tanh = make_mlp_tasks(X, y, 3, 60, 100, (16, 8), 16, 0.0, 30,
                          make_generator(0), torch.float64, "tanh")
    assert torch.equal(relu.w0, tanh.w0)        # same draws, other units
    Xb, yb = tanh._batch(0)
    torch.testing.assert_close(
        tanh.inner_grad(tanh.w0, 0),
        loss_and_grad(tanh.w0, Xb, yb, tanh.sizes, "tanh")[1])
    assert not torch.allclose(tanh.inner_grad(tanh.w0, 0),
                              relu.inner_grad(relu.w0, 0))


def one_hot_images(n_per_class=40):
    """Images that are their class (one-hot), so labels can be checked."""
    labels = np.repeat(np.arange(10), n_per_class)
    return np.eye(10, dtype=np.float32)[labels], labels


def test_each_task_permutes_labels_consistently_between_train_and_test():
    X, y = one_hot_images()
    tasks = make_mlp_tasks(X, y, 4, 200, 150, (8,), 32, 0.0, 10,
                           make_generator(0), torch.float64)
    maps = []
    for j in range(4):
        mapping = {}
        for split in (tasks.train, tasks.test):
            classes = split.X[j].argmax(-1).tolist()
            for c, label in zip(classes, split.y[j].tolist()):
                assert mapping.setdefault(c, label) == label
        assert sorted(mapping.values()) == list(range(10))   # a bijection
        maps.append(tuple(mapping[c] for c in range(10)))
    assert len(set(maps)) > 1           # tasks differ in their permutation


def test_label_noise_replaces_the_requested_share_of_training_labels():
    X, y = one_hot_images(n_per_class=180)
    tasks = make_mlp_tasks(X, y, 2, 1500, 200, (8,), 32, 0.5, 10,
                           make_generator(0), torch.float64)
    for j in range(2):
        # the clean mapping, from the (noise-free) test labels
        clean = dict(zip(tasks.test.X[j].argmax(-1).tolist(),
                         tasks.test.y[j].tolist()))
        expected = torch.tensor([clean[c] for c in
                                 tasks.train.X[j].argmax(-1).tolist()])
        changed = (expected != tasks.train.y[j]).double().mean()
        # replaced with prob. 0.5 by a uniform label: 9/10 of those change
        assert abs(float(changed) - 0.45) < 0.05


def test_test_images_are_held_out_and_hold_out_keeps_them_apart():
    X, y = one_hot_images()
    index = np.arange(len(X), dtype=np.float32)[:, None]
    X = np.concatenate([index, X], axis=1)         # column 0: a unique id
    tasks = make_mlp_tasks(X, y, 2, 100, 100, (8,), 16, 0.0, 20,
                           make_generator(0), torch.float64)
    split = tasks.hold_out(0.25)
    for j in range(2):
        ids = {name: set(part.X[j, :, 0].tolist()) for name, part in
               (("train", split.train), ("val", split.validation),
                ("test", split.test))}
        assert len(ids["train"]) == 75 and len(ids["val"]) == 25
        assert not ids["train"] & ids["val"]
        assert not (ids["train"] | ids["val"]) & ids["test"]
    assert int(split.schedule.table.max()) < 75


def test_minibatches_are_shuffled_epochs():
    batches = epoch_batches(2, 10, 4, 7, make_generator(0))
    assert batches.shape == (2, 7, 4)
    for j in range(2):
        epoch = batches[j, :2].flatten().tolist()     # 2 batches / epoch
        assert len(set(epoch)) == 8                   # no repeat in an epoch
    assert epoch_batches(1, 3, 32, 2, make_generator(0)).shape == (1, 2, 3)


def test_restart_draws_a_new_start_on_the_same_data():
    tasks = small_tasks()
    assert tasks.restart(0) is tasks
    other = tasks.restart(1)
    assert not torch.equal(other.w0, tasks.w0)
    assert other.train.X is tasks.train.X
    torch.testing.assert_close(tasks.restart(1).w0, other.w0)


def test_restart_of_held_out_tasks_draws_a_new_partition_of_their_samples():
    tasks = small_tasks(n_samples=20).hold_out(0.25)
    other = tasks.restart(1)
    assert other.train.X.shape == tasks.train.X.shape
    assert other.validation.X.shape == tasks.validation.X.shape
    assert not torch.equal(other.validation.X, tasks.validation.X)
    assert int(other.schedule.table.max()) < tasks.n_samples
    for j in range(tasks.n_tasks):          # the same (image, label) pairs
        def pairs(t):
            X = torch.cat([t.train.X[j], t.validation.X[j]])
            y = torch.cat([t.train.y[j], t.validation.y[j]])
            return sorted(zip(map(tuple, X.tolist()), y.tolist()))
        assert pairs(other) == pairs(tasks)
    torch.testing.assert_close(tasks.restart(1).validation.X,
                               other.validation.X)
    assert tasks.restart(0) is tasks


def test_validating_on_held_out_images_trains_on_every_sample():
    """``val_fraction="held_out"``: the network trains on all the training
    samples and the task's own held-out images validate; a restart
    re-partitions the two, same sizes, same (image, label) pairs."""
    tasks = small_tasks(n_samples=20)
    held = tasks.validate_on_held_out()
    assert held.train is tasks.train and held.validation is tasks.test
    assert held.schedule is tasks.schedule
    other = held.restart(1)
    assert other.train.X.shape == tasks.train.X.shape
    assert other.validation.X.shape == tasks.test.X.shape
    assert not torch.equal(other.train.X, tasks.train.X)
    assert int(other.schedule.table.max()) < tasks.n_samples
    for j in range(tasks.n_tasks):
        def pairs(t, held):
            X = torch.cat([t.train.X[j], held.X[j]])
            y = torch.cat([t.train.y[j], held.y[j]])
            return sorted(zip(map(tuple, X.tolist()), y.tolist()))
        assert pairs(other, other.validation) == pairs(tasks, tasks.test)


def test_metrics_count_a_non_finite_task_as_diverged():
    tasks = small_tasks()
    w = tasks.w0.clone()
    w[0] = math.inf
    metrics = tasks.metrics(w, 10)
    assert metrics["value"] == math.inf
    assert metrics["diverged_fraction"] == pytest.approx(1 / 3)
    assert 0.0 <= metrics["test_accuracy"] <= 1.0


def test_dataset_draws_different_tasks_per_repetition(bench):
    dataset = make_dataset(bench, "mlp", n_samples=40, n_test=40,
                           hidden=(8,), horizon=5, n_train_tasks=2,
                           n_test_tasks=2)
    first = make_objective(bench, dataset, repetition=0).train_tasks
    again = make_objective(bench, dataset, repetition=0).train_tasks
    other = make_objective(bench, dataset, repetition=1).train_tasks
    assert torch.equal(first.train.X, again.train.X)
    assert not torch.equal(first.train.X, other.train.X)
