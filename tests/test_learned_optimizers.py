"""Every learned optimizer: finite for any input, a sane untrained start,
layout-free, and a meta-gradient that is the derivative of its unroll."""

import math

import pytest
import torch

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.optimizers import Adam, NeuralOptimizer, SGDMomentum
from benchmark_utils.optimizers.adafac import AdafacOptimizer
from benchmark_utils.optimizers.lstm import LSTMOptimizer, preprocess
from benchmark_utils.tasks import make_generator
from benchmark_utils.unroll import unroll
from test_mlp_tasks import small_tasks

LEARNED = {
    "neural": NeuralOptimizer(hidden=4),
    "lstm": LSTMOptimizer(hidden=4),
    "adafac": AdafacOptimizer(hidden=4),
    "sgdm": SGDMomentum(),
    "adam": Adam(),
}
NEURAL = ["neural", "lstm", "adafac"]


def theta_of(name, dtype=torch.float64):
    return LEARNED[name].init_theta(make_generator(1), dtype)


@pytest.mark.parametrize("name", sorted(LEARNED))
def test_meta_gradient_is_the_derivative_of_the_unroll(name):
    """Backprop through a short unroll against a central finite
    difference along a random direction (float64)."""
    tasks = small_tasks(n_tasks=2, n_samples=30, hidden=(6,), horizon=5)
    opt = LEARNED[name]
    problem = MetaProblem(tasks, opt, MetaObjective("naive", "train"), 5)
    theta = theta_of(name)
    mg, _ = get_estimator("backprop").estimate(problem, theta, None)
    v = torch.randn(theta.shape, generator=make_generator(2),
                    dtype=torch.float64)
    v = v / v.norm()
    eps = 1e-6
    numeric = (problem.unrolled_value(theta + eps * v)
               - problem.unrolled_value(theta - eps * v)) / (2 * eps)
    assert float(mg.grad @ v) == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    assert abs(numeric) > 1e-6                   # not a trivial zero


@pytest.mark.parametrize("name", NEURAL)
@pytest.mark.parametrize("value", [1e10, 1e30, 0.0, math.nan, math.inf])
def test_update_is_finite_for_extreme_gradients(name, value):
    tasks = small_tasks(dtype=torch.float32)
    opt = LEARNED[name].for_layout(tasks.layout)
    theta = theta_of(name, torch.float32)
    grad = torch.full_like(tasks.w0, value)
    grad[:, 0] = 1.0
    state, w = opt.init(tasks.w0), tasks.w0
    for _ in range(3):
        w, state = opt.update(w, grad, state, theta)
        assert bool(torch.isfinite(w).all())
        assert float((w - tasks.w0).abs().max()) < 1.0
    bad = opt.diagnostics(state)["nonfinite_gradients"]
    assert bad == (3 * (grad.shape[1] - 1) if not math.isfinite(value)
                   else 0.0)


@pytest.mark.parametrize("name", NEURAL)
def test_untrained_optimizer_is_a_sane_one(name):
    tasks = small_tasks(horizon=100)
    with torch.no_grad():
        w = unroll(tasks, LEARNED[name], theta_of(name), 100)
    assert bool((tasks.loss("train")(w)
                 < 0.9 * tasks.loss("train")(tasks.w0)).all())


@pytest.mark.parametrize("name", NEURAL)
def test_the_same_theta_runs_on_other_shapes(name):
    theta = theta_of(name, torch.float32)
    for hidden in ((16, 8), (64, 32), (16, 16, 8, 8)):
        tasks = small_tasks(hidden=hidden, dtype=torch.float32, horizon=20)
        with torch.no_grad():
            w = unroll(tasks, LEARNED[name], theta, 20)
        assert bool(torch.isfinite(w).all())


def test_lstm_preprocessing_is_the_papers():
    g = torch.tensor([[2.0, -1e-3, 1e-6, -1e-6, 0.0]], dtype=torch.float64)
    x = preprocess(g)
    p = 10.0
    torch.testing.assert_close(x[0, 0], torch.tensor(
        [math.log(2.0) / p, 1.0], dtype=torch.float64))
    torch.testing.assert_close(x[0, 1], torch.tensor(
        [math.log(1e-3) / p, -1.0], dtype=torch.float64))
    torch.testing.assert_close(x[0, 2], torch.tensor(
        [-1.0, math.exp(p) * 1e-6], dtype=torch.float64))
    torch.testing.assert_close(x[0, 4], torch.tensor(
        [-1.0, 0.0], dtype=torch.float64))
    assert bool((x.abs() <= 1.0 + 1e-12).all())   # bounded for any g here


def test_lstm_update_is_torchs_lstm_cell():
    """Two steps of the LSTM optimizer against ``torch.nn.LSTMCell`` with
    the same weights (gates in torch's order i, f, g, o), stacked two
    layers deep, the step ``exp(log_lr) (skip . x + 0.1 W_out h)``
    (float64): the per-gate products of ``prepare``/``apply`` compute the
    textbook cell."""
    opt = LSTMOptimizer(hidden=5)
    theta = opt.init_theta(make_generator(3), torch.float64)
    theta = theta + 0.3 * torch.randn(theta.shape, dtype=torch.float64,
                                      generator=make_generator(4))
    p = opt.theta_layout.unpack(theta)
    cells = []
    for layer in range(2):
        cell = torch.nn.LSTMCell(2 if layer == 0 else 5, 5,
                                 dtype=torch.float64)
        with torch.no_grad():
            cell.weight_ih.copy_(p[f"W_ih{layer}"].T)
            cell.weight_hh.copy_(p[f"W_hh{layer}"].T)
            cell.bias_ih.copy_(p[f"b{layer}"])
            cell.bias_hh.zero_()
        cells.append(cell)
    gen = make_generator(5)
    w = torch.randn(3, 7, dtype=torch.float64, generator=gen)
    state = opt.init(w)
    hc = [(torch.zeros(21, 5, dtype=torch.float64),) * 2] * 2
    ref = w.clone()
    with torch.no_grad():
        for _ in range(2):
            g = torch.randn(3, 7, dtype=torch.float64, generator=gen)
            w_new, state = opt.update(w, g, state, theta)
            x = preprocess(g).view(21, 2)
            inputs = x
            for layer, cell in enumerate(cells):
                hc[layer] = cell(inputs, hc[layer])
                inputs = hc[layer][0]
            direction = x @ p["skip"] + 0.1 * (inputs @ p["W_out"])
            ref = ref - torch.exp(p["log_lr"]) * direction.view(3, 7)
            w = w_new
    torch.testing.assert_close(w, ref, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(state.hidden[1].reshape(21, 5), hc[1][0],
                               rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_online_pes_agrees_with_tbptt_in_expectation_on_one_truncation():
    """Horizon = truncation = 5: both estimate the gradient of the same
    segment loss, tbptt exactly and online PES in expectation. Compared
    along tbptt's direction (ES's variance grows with theta's dimension:
    200 here), with 8 antithetic pairs per estimate, 12 estimates (the
    standard error is then about 0.2 of the gradient's norm)."""
    tasks = small_tasks(n_tasks=2, n_samples=30, hidden=(6,), horizon=5)
    opt = LEARNED["neural"]
    problem = MetaProblem(tasks, opt, MetaObjective("naive", "train"), 5)
    theta = theta_of("neural")
    tbptt = get_estimator("tbptt", truncation=5)
    exact, _ = tbptt.estimate(problem, theta, tbptt.init_state(problem,
                                                               theta))
    u = exact.grad / exact.grad.norm()
    along = []
    for seed in range(12):          # each from w0: the same first segment
        pes = get_estimator("online-pes", truncation=5, sigma=1e-3,
                            pairs=8, seed=seed)
        mg, _ = pes.estimate(problem, theta, pes.init_state(problem, theta))
        along.append(float(mg.grad @ u))
    along = torch.tensor(along, dtype=torch.float64)
    se = float(along.std()) / math.sqrt(len(along))
    ref = float(exact.grad.norm())
    assert abs(float(along.mean()) - ref) < 4 * se
    assert se < 0.5 * ref                    # the comparison has power


def test_adafac_second_moments_are_factored():
    """For a matrix, v_ij = R_i C_j / mean(R) from row and column means of
    g^2; its state is 2 (r + c) floats a matrix, not r c."""
    opt = AdafacOptimizer(hidden=4).for_layout(((3, 4), (4,)))
    params = torch.zeros(1, 16, dtype=torch.float64)
    g = torch.randn(1, 16, generator=make_generator(0), dtype=torch.float64)
    state = opt.init(params)
    r, moments = opt._rsqrt(g, state.moments)
    sq = g[0, :12].view(3, 4).square()
    R, C = sq.mean(1), sq.mean(0)
    for k, b in enumerate((0.99, 0.999)):
        v = (1 - b) ** 2 * R[:, None] * C[None] / ((1 - b) * R.mean()
                                                   + 1e-8)
        torch.testing.assert_close(r[0, :12, k],
                                   torch.rsqrt(v.flatten() + 1e-8))
        torch.testing.assert_close(r[0, 12:, k], torch.rsqrt(
            (1 - b) * g[0, 12:].square() + 1e-8))
    assert moments[0][0].shape == (1, 3, 2)
    assert moments[0][1].shape == (1, 4, 2)


@pytest.mark.parametrize("name", ["adafac"])
def test_sign_equivariant_steps(name):
    """Run on f(-w) from -w0 (every gradient negated): the opposite
    trajectory, so no drift can be learned."""
    opt = LEARNED[name].for_layout(((3, 4), (4,)))
    theta = theta_of(name)
    theta = theta + 0.1 * torch.randn(theta.shape,
                                      generator=make_generator(5),
                                      dtype=torch.float64)
    w = torch.randn(2, 16, generator=make_generator(3), dtype=torch.float64)
    s1, s2 = opt.init(w), opt.init(-w)
    w1, w2 = w, -w
    for k in range(4):
        g = torch.randn(2, 16, generator=make_generator(10 + k),
                        dtype=torch.float64)
        w1, s1 = opt.update(w1, g, s1, theta)
        w2, s2 = opt.update(w2, -g, s2, theta)
    torch.testing.assert_close(w2, -w1)


SOLVERS = ["neural-optimizer", "lstm-optimizer", "adafac-optimizer",
           "learnable-sgdm", "learnable-adam"]
TINY_MLP = dict(n_samples=20, n_test=20, hidden=(4,), horizon=6,
                n_train_tasks=2, n_test_tasks=2)


def _meta_train(bench, name, repetition):
    from conftest import make_dataset, make_objective, make_solver

    obj = make_objective(bench, make_dataset(bench, "mlp", **TINY_MLP),
                         repetition=repetition)
    params = {"device": "cpu"} if name.endswith("-optimizer") else {}
    solver = make_solver(bench, name, repetition=repetition, **params)
    skip, reason = solver.skip(**obj.get_objective())
    assert not skip, reason
    solver.set_objective(**obj.get_objective())
    calls = iter(range(3))
    solver.run(lambda: next(calls, None) is not None)
    result = solver.get_result()
    return solver.theta0, result["result"], obj.evaluate_result(**result)


@pytest.mark.slow
@pytest.mark.parametrize("name", SOLVERS)
def test_a_seeded_meta_training_repeats_bit_for_bit(bench, name):
    """Same repetition: the same tasks, meta-initialisation, meta-steps
    and metrics, to the bit (CPU); another repetition: new tasks and, for
    the neural ones, a new meta-initialisation."""
    theta0, result, metrics = _meta_train(bench, name, 0)
    again0, again, metrics_again = _meta_train(bench, name, 0)
    assert torch.equal(theta0, again0)
    assert torch.equal(result.theta, again.theta)
    assert metrics == metrics_again
    other0, other, metrics_other = _meta_train(bench, name, 1)
    assert metrics_other["value"] != metrics["value"]
    if name in SOLVERS[:3]:
        assert not torch.equal(theta0, other0)
