"""Every solver in solvers/, present and future, through the objective.

Found the way benchopt finds them, so a contributed solver is tested here
with nothing to register: on a small quadratic, a small least-squares
and a small convolutional family (a network built from a torch.nn.Module,
with a held-out suite), with its first parameter values, it reports every
common metric as a float and its tuning cost: 0 for the references (no
meta-training), more than 0 for a solver that meta-learned; where its
result is final, every suite's metrics too.
"""

import math

import pytest

from benchmark_utils.reference_solver import ReferenceSolver
from conftest import make_dataset, make_objective, make_solver, solver_names

COMMON = ["value", "train_loss", "log_objective", "diverged_fraction",
          "meta_grad_failures", "inner_gradient_evaluations"]
FAMILIES = {
    "quadratic": dict(spectrum="wishart", dim=5, horizon=20),
    "least_squares": dict(dim=10, n_samples=6, n_train_tasks=3,
                          n_test_tasks=3, horizon=10),
    "conv": dict(n_samples=20, n_test=20, channels=2, horizon=5,
                 n_train_tasks=2, n_test_tasks=2, suites="wider"),
}


@pytest.fixture(scope="module")
def objectives(bench):
    return {name: make_objective(bench, make_dataset(bench, name, **params))
            for name, params in FAMILIES.items()}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("name", solver_names())
def test_solver_reports_metrics_and_cost(bench, objectives, name, family):
    obj = objectives[family]
    solver = make_solver(bench, name)
    skip, reason = solver.skip(**obj.get_objective())
    if skip:
        assert isinstance(reason, str) and reason
        pytest.skip(reason)
    solver.set_objective(**obj.get_objective())
    calls = iter(range(6))
    solver.run(lambda: next(calls, None) is not None)
    result = solver.get_result()
    metrics = obj.evaluate_result(**result)
    suites = [f"suite_{s}_value" for s in obj.suites]
    for key in COMMON + (suites if result["result"].final else []):
        assert isinstance(metrics[key], float), (name, key)
    assert not math.isnan(metrics["value"])
    cost = metrics["inner_gradient_evaluations"]
    if isinstance(solver, ReferenceSolver):
        assert cost == 0.0
    else:
        assert cost > 0.0, name
