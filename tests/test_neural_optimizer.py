"""The neural learned optimizer and its truncated meta-gradient."""

import math

import pytest
import torch

from benchmark_utils.evaluation import evaluate
from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers.coordinatewise import (
    MAG_BOUND, PAPER_EXP, PAPER_STEP,
)
from benchmark_utils.optimizers.neural import (
    N_FEATURES, N_ODD, STARTS, NeuralOptimizer,
)
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


def tbptt_final(truncation=None):
    return get_estimator("tbptt", truncation=truncation, meta_loss="final")


@pytest.mark.parametrize("split", ["train", "validation"])
def test_tbptt_final_is_the_exact_gradient_of_the_final_loss(split):
    # truncation None = the horizon: backprop through the whole (first)
    # run of l(w_T), checked against finite differences of that loss
    problem, theta = segment_problem("naive", split)
    est = tbptt_final()
    estimate, _ = est.estimate(problem, theta, est.init_state(problem,
                                                              theta))
    v = torch.randn(theta.shape, generator=make_generator(3),
                    dtype=torch.float64)

    def F(th):
        with torch.no_grad():
            w = unroll(problem.tasks, problem.optimizer, th, 6)
        return float(problem.tasks.loss(split)(w).mean())

    eps = 1e-6
    numeric = (F(theta + eps * v) - F(theta - eps * v)) / (2 * eps)
    assert estimate.loss == pytest.approx(F(theta), rel=1e-12)
    assert float(estimate.grad @ v) == pytest.approx(numeric, rel=1e-6)
    assert estimate.inner_gradient_evaluations == 6 * 2


def test_tbptt_final_truncated_backprops_through_the_last_steps():
    # truncation K < T: the first T - K steps are constants; on the first
    # run this is the `truncated` estimator's gradient
    problem, theta = segment_problem(horizon=6)
    est = tbptt_final(truncation=2)
    mine, _ = est.estimate(problem, theta, est.init_state(problem, theta))
    ref = get_estimator("truncated", truncation=2).estimate(problem, theta,
                                                            None)[0]
    assert mine.loss == pytest.approx(ref.loss, rel=1e-12)
    torch.testing.assert_close(mine.grad, ref.grad, rtol=1e-9, atol=1e-12)
    assert mine.inner_gradient_evaluations == 6 * 2     # the whole run


def test_tbptt_final_uses_a_fresh_run_per_estimate():
    problem, theta = segment_problem("naive", "validation", horizon=6)
    est = tbptt_final()
    first, run = est.estimate(problem, theta, est.init_state(problem, theta))
    assert run.runs == 1 and run.done
    second, run = est.estimate(problem, theta, run)
    assert run.runs == 2
    assert not torch.equal(run.tasks.w0, problem.tasks.w0)
    assert not torch.equal(run.tasks.validation.X,
                           problem.tasks.validation.X)
    assert first.loss != second.loss


def _segment_lengths(problem, theta, n, **options):
    est = get_estimator("tbptt", **options)
    run, lengths = est.init_state(problem, theta), []
    for _ in range(n):
        before = 0 if run.done else run.step
        mg, run = est.estimate(problem, theta, run)
        lengths.append(run.step - before)
        assert mg.inner_gradient_evaluations == (
            lengths[-1] * problem.tasks.n_tasks)
    return lengths


def test_tbptt_random_truncations_are_the_papers_and_repeat():
    # truncation + floor(Exp(mean)) steps a segment (the run's end cuts
    # the last one), the same for a seed, others for another seed
    problem, theta = segment_problem(horizon=1000)
    lengths = _segment_lengths(problem, theta, 60, truncation=2,
                               truncation_exp=3.0, seed=1)
    assert min(lengths) >= 2 and len(set(lengths)) > 3
    # E floor(X) = 1 / (e^(1/3) - 1) = 2.53 for X ~ Exp(mean 3)
    mean = sum(lengths) / len(lengths)
    assert 2 + 2.53 - 1.0 < mean < 2 + 2.53 + 1.0
    assert lengths == _segment_lengths(problem, theta, 60, truncation=2,
                                       truncation_exp=3.0, seed=1)
    assert lengths != _segment_lengths(problem, theta, 60, truncation=2,
                                       truncation_exp=3.0, seed=2)
    assert set(_segment_lengths(problem, theta, 5, truncation=4)) == {4}


def test_tbptt_rejects_an_unknown_meta_loss():
    with pytest.raises(ValueError, match="meta_loss"):
        get_estimator("tbptt", meta_loss="mean")


def test_step_features_stop_at_the_meta_training_horizon():
    # past its horizon T the optimizer sees the step features of step T - 1
    tasks = small_tasks()
    bounded = NeuralOptimizer().for_layout(tasks.layout).for_horizon(5)
    free = NeuralOptimizer().for_layout(tasks.layout)
    assert bounded.for_layout(tasks.layout).horizon == 5
    w, g = tasks.w0, tasks.inner_grad(tasks.w0, 0)
    state = bounded.init(w)

    def time_at(opt, step):
        return opt.features(w, g, state._replace(step=step))[1]

    torch.testing.assert_close(time_at(bounded, 40), time_at(bounded, 4))
    torch.testing.assert_close(time_at(bounded, 3), time_at(free, 3))
    assert not torch.allclose(time_at(free, 40), time_at(free, 4))
    with pytest.raises(ValueError, match="horizon"):
        NeuralOptimizer(horizon=0)


def test_paper_start_is_metz_et_al_step():
    """init="paper": the step is 0.001 d exp(0.001 m) (the exponent
    bounded by S tanh(. / S), S = 10, as every learned optimizer's), (d, m)
    the outputs of the plain network W2 relu(W1 x + b1) + b2, made odd in
    the odd features (d) and even (m), at any theta; the start draws both
    layers N(0, 1 / fan_in), and its first steps are at the scale 1e-3."""
    tasks = small_tasks(n_tasks=2, hidden=(6,), dtype=torch.float64)
    opt = NeuralOptimizer(start="paper").for_layout(tasks.layout)
    start = opt.init_theta(make_generator(3), torch.float64)
    p = opt.unpack(start)
    assert float(p["skip"].abs().max()) == 0.0
    assert float(p["W2"].std()) == pytest.approx(32 ** -0.5, rel=0.25)
    for theta in (start, _random_theta(opt)):
        p = opt.unpack(theta)
        w, state = tasks.w0, opt.init(tasks.w0)
        g = tasks.inner_grad(w, 0)
        coords, time, _ = opt.features(w, g, state)
        flip = coords.clone()
        flip[..., :N_ODD] *= -1
        n = coords.shape[-1]

        def net(x):
            hidden = torch.relu(x @ p["W1"][:n] + p["b1"]
                                + time @ p["W1"][n:])
            return hidden @ p["W2"] + p["b2"]

        d = (net(coords)[..., 0] - net(flip)[..., 0]) / 2
        m = (net(coords)[..., 1] + net(flip)[..., 1]) / 2
        bounded = MAG_BOUND * torch.tanh(PAPER_EXP * m / MAG_BOUND)
        expected = w - PAPER_STEP * d * torch.exp(bounded)
        new, _ = opt.update(w, g, state, theta)
        torch.testing.assert_close(new, expected, rtol=1e-10, atol=1e-14)
    step = (opt.update(w, g, state, start)[0] - w).abs()
    assert 1e-5 < float(step.max()) < 1e-2


def test_paper_start_leaves_the_linear_path_and_log_lr_alone():
    # parts the paper's step does not use get no meta-gradient
    tasks = small_tasks(n_tasks=2, hidden=(6,))
    opt = NeuralOptimizer(start="paper").for_layout(tasks.layout)
    theta = _random_theta(opt).requires_grad_(True)
    with torch.enable_grad():
        w = unroll(tasks, opt, theta, 3)
        (grad,) = torch.autograd.grad(tasks.loss("train")(w).sum(), theta)
    parts = opt.unpack(grad)
    assert float(parts["skip"].abs().max()) == 0.0
    assert float(parts["log_lr"].abs().max()) == 0.0
    assert float(parts["W1"].abs().max()) > 0.0


def _random_theta(opt, seed=4):
    theta = opt.init_theta(make_generator(seed), torch.float64)
    noise = torch.randn(theta.shape, generator=make_generator(seed + 1),
                        dtype=torch.float64)
    return theta + 0.3 * noise


@pytest.mark.parametrize("start", STARTS)
def test_update_is_sign_equivariant_for_any_theta(start):
    # on f(-w) from -w0 (gradients negated), the optimizer takes exactly
    # the opposite steps, whatever theta
    tasks = small_tasks(n_tasks=2, hidden=(6,))
    opt = NeuralOptimizer(start=start).for_layout(tasks.layout)
    theta = _random_theta(opt)
    w, w_flip = tasks.w0, -tasks.w0
    state, state_flip = opt.init(w), opt.init(w_flip)
    for k in range(3):
        g = tasks.inner_grad(w, k)
        w, state = opt.update(w, g, state, theta)
        w_flip, state_flip = opt.update(w_flip, -g, state_flip, theta)
    torch.testing.assert_close(w_flip, -w, rtol=1e-12, atol=1e-12)
    assert not torch.allclose(w, tasks.w0)


@pytest.mark.parametrize("start", STARTS)
def test_update_has_no_drift(start):
    # a zero gradient history at w = 0 gives a zero update: no part of the
    # step is independent of the gradient's sign
    tasks = small_tasks(n_tasks=2, hidden=(6,))
    opt = NeuralOptimizer(start=start).for_layout(tasks.layout)
    theta = _random_theta(opt)
    w = torch.zeros_like(tasks.w0)
    new, _ = opt.update(w, torch.zeros_like(w), opt.init(w), theta)
    assert float(new.abs().max()) == 0.0


def test_selection_keeps_the_best_scored_theta_and_counts_its_cost():
    from benchmark_utils.meta_optimizers import make_meta_optimizer
    from benchmark_utils.meta_train import MetaTrainer, MetaValidation
    problem, theta0 = segment_problem("naive", "validation", horizon=6)
    validation = MetaValidation(problem, runs=2)
    assert validation.cost == 2 * 6 * 2
    # the score: the meta-objective at the end of fixed fresh runs (new
    # partitions of the samples), never the meta-test tasks
    values = []
    with torch.no_grad():
        for r in range(2):
            tasks = problem.tasks.restart(10 ** 6 + r)
            assert not torch.equal(tasks.validation.X,
                                   problem.tasks.validation.X)
            w = unroll(tasks, problem.optimizer, theta0, 6)
            values.append(float(problem.loss_at(w, tasks)))
    assert validation(theta0) == pytest.approx(sum(values) / 2, rel=1e-12)

    class Scores:           # scores 3, 1, 2, 5, 4 in turn
        cost = 7

        def __init__(self):
            self.seen = []

        def scores(self, theta):        # one (run, task) pair
            self.seen.append(theta.clone())
            return torch.tensor([[3.0, 1.0, 2.0, 5.0, 4.0][
                len(self.seen) - 1]], dtype=torch.float64)

    scores = Scores()
    trainer = MetaTrainer(problem, get_estimator("tbptt", truncation=3),
                          make_meta_optimizer("adam", 1e-2, problem.optimizer),
                          theta0, selection=scores, select_every=2)
    for _ in range(8):
        trainer.step()
    assert len(scores.seen) == 5                # at 0, 2, 4, 6, 8
    torch.testing.assert_close(trainer.result().theta, scores.seen[1])
    assert not torch.equal(trainer.theta, scores.seen[1])
    assert trainer.result().inner_gradient_evaluations == 8 * 3 * 2 + 5 * 7
