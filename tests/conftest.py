"""Shared helpers: load the benchmark's classes the way benchopt does."""

from pathlib import Path

import pytest
import torch
from benchopt.benchmark import Benchmark
from benchopt.utils.run_context import RunContext

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_solver import meta_problem
from benchmark_utils.meta_train import SolverResult
from benchmark_utils.optimizers import GradientDescent

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def bench():
    return Benchmark(ROOT)


def _component(classes, name):
    (cls,) = [c for c in classes if c.name == name]
    return cls


def make_dataset(benchmark, name, **params):
    """A dataset instance, through benchopt's parameter grid."""
    return _component(benchmark.get_datasets(), name).get_instance(**params)


def make_solver(benchmark, name, repetition=0, **params):
    """A solver instance, with a run context so that it can seed itself."""
    solver = _component(benchmark.get_solvers(), name).get_instance(**params)
    RunContext().set_run_context("objective", "dataset", solver,
                                 repetition=repetition, base_seed=0)
    return solver


def make_objective(benchmark, dataset, repetition=0):
    """The objective with ``dataset``'s data set, seeded as in a run."""
    objective = benchmark.get_benchmark_objective().get_instance()
    RunContext().set_run_context(objective, dataset, "tests",
                                 repetition=repetition, base_seed=0)
    objective.set_data(**dataset.get_data())
    return objective


def solver_classes():
    """The solver classes in solvers/, as benchopt finds them."""
    return Benchmark(ROOT).get_solvers()


def solver_names():
    """The names of every solver in solvers/, sorted, found as benchopt
    finds them (for parametrising a test over solvers present and
    future)."""
    return sorted(cls.name for cls in solver_classes())


def run_solver(benchmark, obj, solver_name, max_meta_steps=200,
               skip_unsupported=False, repetition=0, **params):
    """Run a solver on objective ``obj`` like benchopt's callback loop, for
    at most ``max_meta_steps`` meta-steps; return (solver, metrics). A
    solver that skips ``obj`` fails the test, or with ``skip_unsupported``
    skips it with the solver's reason. ``repetition`` seeds the solver as
    benchopt's repetition of that number would."""
    solver = make_solver(benchmark, solver_name, **params)
    # seeds, as in a run (stochastic estimators use the solver's get_seed)
    RunContext().set_run_context(None, "tests", solver,
                                 repetition=repetition, base_seed=0)
    skip, reason = solver.skip(**obj.get_objective())
    if skip and skip_unsupported:
        pytest.skip(reason)
    assert not skip, reason
    solver.set_objective(**obj.get_objective())
    calls = iter(range(max_meta_steps))

    def callback():
        return next(calls, None) is not None

    solver.run(callback)
    return solver, obj.evaluate_result(**solver.get_result())


def float64(x):
    return torch.as_tensor(x, dtype=torch.float64)


# --- gradient descent's step size, in its parametrisation theta = log eta --

def log_eta(eta):
    """Gradient descent's ``theta`` for the step size ``eta``."""
    return GradientDescent().theta_from(step_size=eta)


def gd_result(eta):
    """A solver's result: gradient descent with step size ``eta``."""
    return SolverResult(GradientDescent(), log_eta(eta))


def gd_problem(tasks, horizon, kind="log", split="train", val_fraction=0.5):
    """The meta-problem of GD's step size (held out for split=validation)."""
    return meta_problem(tasks, GradientDescent(), kind, split, horizon,
                        val_fraction)


def estimate(name, problem, eta, **options):
    """One estimate (a ``MetaGradient`` in ``theta = log eta``) by the
    estimator ``name`` from a fresh state."""
    est = get_estimator(name, **options)
    theta = log_eta(eta)
    return est.estimate(problem, theta, est.init_state(problem, theta))[0]


def step_size_grad(name, problem, eta, **options):
    """``dF/deta`` (a float) by the estimator ``name``."""
    return float(estimate(name, problem, eta, **options).grad) / eta


def draws(est, problem, eta, n):
    """``n`` successive estimates of ``dF/deta`` by ``est`` (one state:
    fresh noise each), as a float64 tensor."""
    theta = log_eta(eta)
    state = est.init_state(problem, theta)
    out = []
    for _ in range(n):
        mg, state = est.estimate(problem, theta, state)
        out.append(float(mg.grad) / eta)
    return torch.tensor(out, dtype=torch.float64)
