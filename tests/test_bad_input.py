"""Bad parameters: a ValueError naming the parameter and what is allowed,
raised before any computation (in ``get_data`` before drawing tasks, in the
solver's ``skip`` before meta-training)."""

import pytest

from conftest import make_dataset, make_objective, make_solver

DATASET_CASES = [
    ("quadratic", dict(dim=0), "dim", "integer >= 1"),
    ("quadratic", dict(dim=-3), "dim", "integer >= 1"),
    ("quadratic", dict(dim=2.5), "dim", "integer >= 1"),
    ("quadratic", dict(horizon=0), "horizon", "integer >= 1"),
    ("quadratic", dict(n_train_tasks=0), "n_train_tasks", "integer >= 1"),
    ("quadratic", dict(n_test_tasks=-1), "n_test_tasks", "integer >= 1"),
    ("quadratic", dict(spectrum="gaussian"), "spectrum",
     "one of 'wishart', 'linspace'"),
    ("quadratic", dict(condition_number=0.5), "condition_number",
     r"\[1, \+inf\)"),
    ("quadratic", dict(dtype="float16"), "dtype",
     "one of 'float64', 'float32'"),
    ("least_squares", dict(dim=0), "dim", "integer >= 1"),
    ("least_squares", dict(n_samples=0), "n_samples", "integer >= 1"),
    ("least_squares", dict(noise=-1.0), "noise", r"\[0, \+inf\)"),
    ("least_squares", dict(horizon=0), "horizon", "integer >= 1"),
]


@pytest.mark.parametrize("name, params, parameter, allowed", DATASET_CASES)
def test_bad_dataset_parameter(bench, name, params, parameter, allowed):
    dataset = make_dataset(bench, name, **params)
    with pytest.raises(ValueError, match=f"'{parameter}' must .*{allowed}"):
        make_objective(bench, dataset)


SOLVER_CASES = [
    ("log-unrolled", dict(gradient="exact"), "gradient",
     "one of 'stable', 'backprop', 'truncated', 'forward', 'es', 'pes', "
     "'hypergradient'"),
    ("log-unrolled", dict(gradient="truncated", truncation=0), "truncation",
     "integer >= 1"),
    ("log-unrolled", dict(gradient="truncated", truncation=4), "truncation",
     r"integer in \[1, horizon=3\]"),
    ("train-by-validation", dict(gradient="pes", truncation=4),
     "truncation", r"integer in \[1, horizon=3\]"),
    ("log-unrolled", dict(gradient="pes", truncation=0.5), "truncation",
     "integer >= 1"),
    ("log-unrolled", dict(gradient="es", sigma=0.0), "sigma",
     r"\(0, \+inf\)"),
    ("train-by-validation", dict(gradient="pes", sigma=-1.0), "sigma",
     r"\(0, \+inf\)"),
    ("log-unrolled", dict(gradient="es", pairs=0), "pairs", "integer >= 1"),
    ("log-unrolled", dict(gradient="pes", pairs=2.5), "pairs",
     "integer >= 1"),
    ("log-unrolled", dict(eta0=-0.1), "eta0", r"\(0, \+inf\)"),
    ("log-unrolled", dict(eta0=0.0), "eta0", r"\(0, \+inf\)"),
    ("log-unrolled", dict(meta_lr=-1.0), "meta_lr", r"\(0, \+inf\)"),
    ("naive-unrolled", dict(meta_optimizer="sgd"), "meta_optimizer",
     "one of 'brent', 'projected-gd'"),
    ("train-by-validation", dict(objective="square"), "objective",
     "one of 'naive', 'log'"),
    ("train-by-validation", dict(val_fraction=0.0), "val_fraction",
     r"\(0, 1\)"),
    ("train-by-validation", dict(val_fraction=1.0), "val_fraction",
     r"\(0, 1\)"),
    ("train-by-validation", dict(val_fraction=0.05), "val_fraction",
     "at least one training and one validation sample"),
    ("train-by-validation", dict(val_fraction=0.99), "val_fraction",
     "at least one training and one validation sample"),
    ("grid-search", dict(split="test"), "split",
     "one of 'train', 'validation'"),
    ("grid-search", dict(objective="mse"), "objective",
     "one of 'naive', 'log'"),
    ("grid-search", dict(grid_size=0), "grid_size", "integer >= 1"),
    ("grid-search", dict(grid_min=-1.0), "grid_min", r"\(0, \+inf\)"),
    ("grid-search", dict(grid_min=1.0, grid_max=0.1), "grid_max",
     ">= grid_min"),
]


@pytest.fixture(scope="module")
def small_least_squares(bench):
    dataset = make_dataset(bench, "least_squares", dim=5, n_samples=6,
                           n_train_tasks=2, n_test_tasks=2, horizon=3)
    return make_objective(bench, dataset)


@pytest.mark.parametrize("name, params, parameter, allowed", SOLVER_CASES)
def test_bad_solver_parameter(bench, small_least_squares, name, params,
                              parameter, allowed):
    solver = make_solver(bench, name, **params)
    with pytest.raises(ValueError, match=f"'{parameter}' must .*{allowed}"):
        solver.skip(**small_least_squares.get_objective())
