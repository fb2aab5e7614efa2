"""The neural learned optimizer and its truncated meta-gradient."""

import math

import pytest
import torch

from benchmark_utils.evaluation import evaluate
from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers.neural import N_FEATURES, NeuralOptimizer
from benchmark_utils.tasks import make_generator
from benchmark_utils.unroll import unroll
from test_mlp_tasks import small_tasks


def optimizer_and_theta(tasks, dtype=torch.float64):
    opt = NeuralOptimizer().for_layout(tasks.layout)
    return opt, opt.init_theta(make_generator(1), dtype)


def tbptt_estimate(problem, theta, truncation, state=None):
    """One TBPTT estimate: ``(MetaGradient, state)``, from a fresh
    persistent run unless ``state`` is given."""
    est = get_estimator("tbptt", truncation=truncation)
    if state is None:
        state = est.init_state(problem, theta)
    return est.estimate(problem, theta, state)


def test_features_are_the_documented_31():
    tasks = small_tasks()
    opt, _ = optimizer_and_theta(tasks)
    coords, time, _ = opt.features(tasks.w0, tasks.inner_grad(tasks.w0, 0),
                                   opt.init(tasks.w0))
    assert N_FEATURES == 31 == coords.shape[-1] + time.shape[-1]
    assert coords.shape[:2] == tasks.w0.shape
    assert float(coords.abs().max()) <= 10.0
    # each per-coordinate feature has mean |.| 1 over each parameter tensor
    first = coords[:, :math.prod(tasks.layout[0])]
    unclipped = first.abs().amax(1) < 10.0
    torch.testing.assert_close(first.abs().mean(1)[unclipped],
                               torch.ones_like(first[:, 0])[unclipped],
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("value", [1e10, 1e30, 0.0, math.nan, math.inf])
def test_update_is_finite_for_extreme_gradients(value):
    tasks = small_tasks(dtype=torch.float32)
    opt, theta = optimizer_and_theta(tasks, torch.float32)
    grad = torch.full_like(tasks.w0, value)
    grad[:, 0] = 1.0
    state = opt.init(tasks.w0)
    w = tasks.w0
    for _ in range(3):
        w, state = opt.update(w, grad, state, theta)
        assert bool(torch.isfinite(w).all())
        assert float((w - tasks.w0).abs().max()) < 1.0
    bad = opt.diagnostics(state)["nonfinite_gradients"]
    assert bad == (3 * (grad.shape[1] - 1) if not math.isfinite(value)
                   else 0.0)


def test_untrained_optimizer_is_a_sane_one():
    # it decreases every task's training loss, like Adam with a small step
    tasks = small_tasks(horizon=100)
    opt, theta = optimizer_and_theta(tasks)
    with torch.no_grad():
        w = unroll(tasks, opt, theta, 100)
    before = tasks.loss("train")(tasks.w0)
    after = tasks.loss("train")(w)
    assert bool((after < 0.8 * before).all())


def segment_problem(kind="naive", split="train", horizon=6):
    tasks = small_tasks(n_tasks=2, n_samples=30, hidden=(6,),
                        horizon=horizon)
    if split == "validation":
        tasks = tasks.hold_out(0.5)
    opt, theta = optimizer_and_theta(tasks)
    return MetaProblem(tasks, opt, MetaObjective(kind, split), horizon), theta


@pytest.mark.parametrize("kind, split", [("naive", "train"),
                                         ("log", "validation")])
def test_tbptt_is_the_exact_gradient_of_its_segment(kind, split):
    problem, theta = segment_problem(kind, split)
    estimate, _ = tbptt_estimate(problem, theta, 6)
    v = torch.randn(theta.shape, generator=make_generator(2),
                    dtype=torch.float64)

    def F(th):      # a fresh run: the same first segment
        return tbptt_estimate(problem, th, 6)[0].loss

    eps = 1e-6
    numeric = (F(theta + eps * v) - F(theta - eps * v)) / (2 * eps)
    assert float(estimate.grad @ v) == pytest.approx(numeric, rel=1e-6)
    assert estimate.inner_gradient_evaluations == 6 * 2


def test_tbptt_continues_the_run_and_restarts_after_the_horizon():
    problem, theta = segment_problem(horizon=6)
    _, run = tbptt_estimate(problem, theta, 4)
    assert run.step == 4
    _, run = tbptt_estimate(problem, theta, 4, run)
    assert run.step == 6                    # the last segment is shorter
    _, run = tbptt_estimate(problem, theta, 4, run)
    assert run.step == 4 and run.runs == 2
    assert not torch.equal(run.tasks.w0, problem.tasks.w0)


def test_the_same_theta_applies_to_networks_of_other_shapes():
    """theta does not depend on the layout: the optimizer is bound to the
    tasks it runs on, wider or deeper than the ones it was made for."""
    tasks = small_tasks(hidden=(16, 8), dtype=torch.float32)
    opt, theta = optimizer_and_theta(tasks, torch.float32)
    result = SolverResult(opt, theta)
    base = evaluate(tasks, result, 30)
    for hidden in ((64, 32), (16, 16, 8, 8)):
        other = small_tasks(hidden=hidden, dtype=torch.float32)
        assert other.layout != tasks.layout
        metrics = evaluate(other, result, 30)
        assert math.isfinite(metrics["value"])
        assert metrics["train_loss"] < other.metrics(other.w0, 30)[
            "train_loss"]
    assert math.isfinite(base["value"])
