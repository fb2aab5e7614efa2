"""Every learnable-optimizer solver learns with its defaults: meta-trained
with the one recipe (train-by-validation, the final loss of whole runs,
the best theta on meta-validation tasks set apart, the default budget in
inner-gradient evaluations), it hands back an optimizer that does better
than its untrained start on the held-out meta-test tasks, in every one of
3 seeds (new tasks and a new meta-initialisation each).

A small digits MLP (one hidden layer of 16 units, T = 30) keeps the 15
meta-trainings to a few minutes; the solvers run with every default but
the device (the CPU) and, for the neural optimizer, whose defaults also
run train-by-train, ``split="validation"``.
"""

import pytest

from benchmark_utils.evaluation import evaluate
from benchmark_utils.meta_solver import LearnedOptimizerSolver
from benchmark_utils.meta_train import SolverResult
from conftest import solver_classes, make_dataset, make_objective, run_solver

pytestmark = pytest.mark.slow

LEARNERS = sorted(cls.name for cls in solver_classes()
                  if issubclass(cls, LearnedOptimizerSolver))
SMALL_MLP = dict(n_samples=100, n_test=300, hidden=(16,), horizon=30,
                 n_train_tasks=8, n_test_tasks=4)


def test_the_learners_are_every_learned_optimizer_solver():
    assert {"neural-optimizer", "lstm-optimizer", "adafac-optimizer",
            "learnable-sgdm", "learnable-adam"} <= set(LEARNERS)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", LEARNERS)
def test_defaults_improve_on_the_untrained_start(bench, name, seed):
    obj = make_objective(bench, make_dataset(bench, "mlp", **SMALL_MLP),
                         repetition=seed)
    solver, metrics = run_solver(bench, obj, name, 10 ** 6,
                                 repetition=seed, split="validation",
                                 device="cpu")
    untrained = evaluate(obj.test_tasks, SolverResult(
        solver.problem.optimizer, solver.theta0), obj.horizon)
    assert metrics["value"] < untrained["value"], (untrained, metrics)
    assert metrics["meta_grad_failures"] == 0.0
    # the budget (20 runs of the 8 tasks: 4,800) ends the run, never
    # overspent; selection included
    budget = solver.inner_gradient_budget
    assert budget == 20 * SMALL_MLP["horizon"] * SMALL_MLP["n_train_tasks"]
    assert 0.8 * budget <= metrics["inner_gradient_evaluations"] <= budget
