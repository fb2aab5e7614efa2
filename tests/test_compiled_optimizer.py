"""The compiled learned-optimizer update (``optimizers/compiled.py``):
equal to the eager update (1e-6 in float32, 1e-12 in float64, relative to
the largest entry) for evaluation (no graph) and meta-training (the tbptt
meta-gradient through the compiled update and its backward), for every
learned optimizer; eager with a warning, never a crash, where compilation
is unavailable or fails; a solver run with compilation unavailable passes.

Compiling takes seconds to a minute per optimizer and mode on two cores:
the equality tests are ``slow``."""

import pickle
import warnings

import pytest
import torch

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.optimizers import NeuralOptimizer
from benchmark_utils.optimizers import compiled as compiled_module
from benchmark_utils.optimizers.adafac import AdafacOptimizer
from benchmark_utils.optimizers.compiled import (
    CompileFallbackWarning, compile_unavailable, compiled, is_compiled,
)
from benchmark_utils.optimizers.lstm import LSTMOptimizer
from benchmark_utils.tasks import make_generator
from conftest import (
    ROOT, make_dataset, make_objective, make_solver, run_solver,
)
from test_mlp_tasks import small_tasks

LEARNED = {
    "neural": lambda: NeuralOptimizer(hidden=4),
    "lstm": lambda: LSTMOptimizer(hidden=4),
    "adafac": lambda: AdafacOptimizer(hidden=4),
}
TOLERANCE = {torch.float32: 1e-6, torch.float64: 1e-12}
HORIZON = 3


def rel_diff(a, b):
    return float((a - b).abs().max() / b.abs().max())


def setting(name, dtype):
    tasks = small_tasks(n_tasks=2, n_samples=30, hidden=(6,),
                        horizon=HORIZON, dtype=dtype)
    eager = LEARNED[name]().for_layout(tasks.layout)
    fast = compiled(LEARNED[name]()).for_layout(tasks.layout)
    theta = eager.init_theta(make_generator(1), dtype)
    return tasks, eager, fast, theta


def rollout(tasks, opt, theta):
    """Three no-graph updates along the tasks' gradients."""
    w, state = tasks.w0, opt.init(tasks.w0)
    with torch.no_grad():
        for k in range(HORIZON):
            w, state = opt.update(w, tasks.inner_grad(w, k), state, theta)
    return w


def meta_gradient(tasks, opt, theta):
    problem = MetaProblem(tasks, opt, MetaObjective("naive", "train"),
                          HORIZON)
    est = get_estimator("tbptt", truncation=HORIZON)
    return est.estimate(problem, theta, est.init_state(problem, theta))[0]


needs_compiler = pytest.mark.skipif(
    compile_unavailable("cpu") is not None,
    reason=f"torch.compile unavailable: {compile_unavailable('cpu')}")


@pytest.mark.slow
@needs_compiler
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", sorted(LEARNED))
def test_compiled_equals_eager(name, dtype):
    tasks, eager, fast, theta = setting(name, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)
        w_fast = rollout(tasks, fast, theta)
        mg_fast = meta_gradient(tasks, fast, theta)
    assert fast.failure is None
    assert fast.compile_seconds > 0
    w_eager = rollout(tasks, eager, theta)
    mg_eager = meta_gradient(tasks, eager, theta)
    assert rel_diff(w_fast, w_eager) <= TOLERANCE[dtype]
    assert float(mg_eager.grad.abs().max()) > 0          # not a trivial 0
    assert rel_diff(mg_fast.grad, mg_eager.grad) <= TOLERANCE[dtype]
    assert mg_fast.loss == pytest.approx(mg_eager.loss,
                                         rel=TOLERANCE[dtype])


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="no CUDA device here")
@pytest.mark.parametrize("name", sorted(LEARNED))
def test_compiled_equals_eager_on_cuda(name):
    tasks, eager, fast, theta = setting(name, torch.float32)
    tasks, theta = tasks.to("cuda"), theta.to("cuda")
    assert rel_diff(rollout(tasks, fast, theta),
                    rollout(tasks, eager, theta)) <= 1e-6
    assert rel_diff(meta_gradient(tasks, fast, theta).grad,
                    meta_gradient(tasks, eager, theta).grad) <= 1e-6


def _raise(*args, **kwargs):
    raise RuntimeError("torch.compile switched off by the test")


@pytest.mark.parametrize("name", sorted(LEARNED))
def test_compile_failure_falls_back_to_eager(monkeypatch, name):
    """``torch.compile`` raising: one warning naming the optimizer and the
    reason, then the eager update, bit for bit."""
    monkeypatch.setattr(torch, "compile", _raise)
    tasks, eager, fast, theta = setting(name, torch.float64)
    with pytest.warns(CompileFallbackWarning,
                      match="switched off by the test"):
        w_fast = rollout(tasks, fast, theta)
    assert "switched off" in fast.failure
    assert torch.equal(w_fast, rollout(tasks, eager, theta))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)  # once only
        mg = meta_gradient(tasks, fast, theta)
    assert torch.equal(mg.grad, meta_gradient(tasks, eager, theta).grad)


def test_compile_unavailable_falls_back_to_eager(monkeypatch):
    monkeypatch.setattr(compiled_module, "compile_unavailable",
                        lambda device="cpu": "no C++ compiler (test)")
    tasks, eager, fast, theta = setting("neural", torch.float64)
    with pytest.warns(CompileFallbackWarning, match="no C.. compiler"):
        w_fast = rollout(tasks, fast, theta)
    assert torch.equal(w_fast, rollout(tasks, eager, theta))


def test_an_error_of_the_update_itself_propagates(monkeypatch):
    """Bad input raises what the eager update raises, not a warning."""
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: fn)
    tasks, eager, fast, theta = setting("neural", torch.float64)
    with pytest.raises(Exception) as eager_err:
        eager.update(tasks.w0, tasks.w0[:, :3], eager.init(tasks.w0), theta)
    with pytest.raises(type(eager_err.value)):
        fast.update(tasks.w0, tasks.w0[:, :3], fast.init(tasks.w0), theta)


def test_the_wrapper_is_the_optimizer_in_every_other_respect():
    tasks = small_tasks(n_tasks=2, n_samples=30, hidden=(6,), horizon=2)
    inner = NeuralOptimizer(hidden=4)
    fast = compiled(inner)
    assert is_compiled(fast) and not is_compiled(inner)
    assert is_compiled(compiled(fast)) and compiled(fast).inner == inner
    bound = fast.for_layout(tasks.layout)
    assert is_compiled(bound)
    assert bound.inner == inner.for_layout(tasks.layout)
    assert bound is fast.for_layout(tasks.layout)           # kept
    gen = make_generator(3)
    theta = fast.init_theta(gen, torch.float32)
    assert torch.equal(theta, inner.init_theta(make_generator(3),
                                               torch.float32))
    assert fast.hyperparameters(theta) == inner.hyperparameters(theta)
    assert fast.needs_loss == inner.needs_loss
    copy = pickle.loads(pickle.dumps(bound))
    assert copy == bound and is_compiled(copy)


@pytest.fixture(scope="module")
def mlp_objective():
    from benchopt.benchmark import Benchmark
    bench = Benchmark(ROOT)
    dataset = make_dataset(bench, "mlp", n_train_tasks=2, n_test_tasks=2,
                           n_samples=40, n_test=40, hidden=(6,), horizon=4)
    return bench, make_objective(bench, dataset)


@pytest.mark.parametrize("solver", ["neural-optimizer", "lstm-optimizer",
                                    "adafac-optimizer"])
def test_a_run_with_compilation_unavailable_passes(monkeypatch,
                                                   mlp_objective, solver):
    """``compile=True`` with ``torch.compile`` raising: the solver warns,
    meta-trains and is evaluated eagerly (its warm-up included)."""
    bench, objective = mlp_objective
    monkeypatch.setattr(torch, "compile", _raise)
    with pytest.warns(CompileFallbackWarning):
        solver_, metrics = run_solver(
            bench, objective, solver, max_meta_steps=2, compile=True,
            truncation=2, split="train")
    assert is_compiled(solver_.problem.optimizer)
    assert all(v == v for v in metrics.values())      # no NaN
    assert solver_.trainer.meta_steps == 2


def test_warm_up_compiles_outside_the_timed_run(monkeypatch, mlp_objective):
    """The solver's ``warm_up`` (untimed in benchopt) calls the compiled
    update with and without a graph; an eager solver's does nothing."""
    bench, objective = mlp_objective
    calls = []

    def counting(fn, **kwargs):
        def wrapped(*args, **kw):
            calls.append(torch.is_grad_enabled())
            return fn(*args, **kw)
        return wrapped

    monkeypatch.setattr(torch, "compile", counting)
    for value, expected in [(False, set()), (True, {True, False})]:
        calls.clear()
        solver = make_solver(bench, "neural-optimizer", compile=value,
                             truncation=2, split="train")
        solver.set_objective(**objective.get_objective())
        solver.warm_up()
        assert set(calls) == expected
