"""Bad parameters, as a table: every parameter of every dataset and solver
(and of the objective: its ``device``) gets wrong types, out-of-range
values and impossible combinations. Each row asserts a ValueError naming the
parameter, raised before any computation: by a dataset's
``check_parameters`` (which ``get_data`` runs before drawing tasks, turning
the error into a skip reason, see ``benchmark_utils/validation.py``), by a
solver's ``skip`` (before ``set_objective`` and meta-training).

The rows for single parameters are generated from the components' own
``parameters`` and :data:`BAD_VALUES`; a parameter without bad values fails
:func:`test_every_parameter_has_bad_values`, so a new parameter cannot go
untested."""

import math
import re

import pytest

from conftest import ROOT, make_dataset, make_objective, make_solver
from benchopt.benchmark import Benchmark

NAN, INF = math.nan, math.inf

# parameter name -> values invalid wherever a parameter of that name
# appears (a value valid for one component only goes to COMBINATIONS)
BAD_VALUES = {
    # datasets
    "spectrum": ["gaussian", None, 1],
    "dim": [0, -3, 2.5, "20", True, None],
    "condition_number": [0.5, 0.0, INF, NAN, "100"],
    "horizon": [0, -1, 1.5, "80", None],
    "n_train_tasks": [0, -1, 1.5, "8"],
    "n_test_tasks": [0, -1, 1.5],
    "dtype": ["float16", "int8", None, 64],
    "n_samples": [0, -1, 2.5, "100"],
    "noise": [-1.0, INF, NAN, "1"],
    "source": ["cifar", None, 1],
    "n_test": [0, -5, "500"],
    "hidden": [0, -1, "wide", 2.5, True],
    "batch_size": [0, 2.5, "32"],
    "eval_horizon": [0, -1, 1.5, "80"],
    "label_noise": [1.5, -0.1, NAN, "0.2"],
    "activation": ["sigmoid", "ReLU", None, 1],
    "suites": ["widest", "wider,deeper", ("wider", "widest"), ("wider", 1),
               1, True],
    "score": ["yes", 1, None],
    "channels": [0, -2, 2.5, "8"],
    # solvers
    "gradient": ["no-such-estimator", None, 1],
    "eta0": [0.0, -0.1, INF, NAN, "0.1", True],
    "meta_optimizer": ["sgd", None, 1],
    "meta_lr": [0.0, -1.0, INF, NAN, "1e-2"],
    "meta_objective": ["square", None],
    "first_order": ["yes", 1],
    "meta_loss": ["mean", 1],
    "select_every": [0, -1, 2.5, "5"],
    "momentum": [1.0, -0.1, NAN, "0.9"],
    "beta1": [1.0, 0.0, NAN, "0.9"],
    "beta2": [1.0, -0.5, NAN],
    "eps": [0.0, -1e-8, INF, "1e-8"],
    "val_fraction": [0.0, 1.0, -0.5, NAN, "0.5", None],
    "split": ["test", None],
    "grid_min": [0.0, -1.0, INF, "1e-6"],
    "grid_max": [0.0, -1.0, INF],
    "grid_size": [0, 2.5, "25"],
    "truncation": [0, 1.5, "20"],
    "truncation_exp": [0.0, -3.0, NAN, "100"],
    "init": ["metz", None, 1],
    "max_meta_steps": [0, -1, 2.5, "50"],
    "budget": [0, -1, 2.5, "16000", True, "0 runs", "20 Runs", "runs"],
    "sigma": [0.0, -0.1, INF, NAN, "0.1"],
    "pairs": [0, -1, 2.5, "8"],
    "device": ["tpu", None],
    "compile": ["yes", None, 1],
    "variant": ["subtractive", None],
    "hyper_lr": [-1.0, INF, "big"],
    "reps_rel": [0.0, -1.0, NAN],
    "d0": [0.0, -1e-6, NAN],
    "base": ["adam", None],
    "lr": [0.0, -0.05, "0.05"],
    "gamma": [0.0, -1.0, INF],
    "rule": ["1/mu", None],
}

_BENCH = Benchmark(ROOT)
DATASETS = {cls.name: cls for cls in _BENCH.get_datasets()}
SOLVERS = {cls.name: cls for cls in _BENCH.get_solvers()}
OBJECTIVE = _BENCH.get_benchmark_objective()


def _rows(components):
    return [
        pytest.param(name, {param: value}, param,
                     id=f"{name}-{param}={value!r}")
        for name, cls in sorted(components.items())
        for param in cls.parameters
        for value in BAD_VALUES.get(param, [])
    ]


def test_every_parameter_has_bad_values():
    """Every parameter of every dataset, solver and of the objective has
    bad values in the table (a new parameter must get some)."""
    components = [*DATASETS.values(), *SOLVERS.values(), OBJECTIVE]
    missing = sorted({
        f"{cls.name}.{param}" for cls in components
        for param in getattr(cls, "parameters", {}) or {}
        if not BAD_VALUES.get(param)
    })
    assert not missing, f"parameters without bad values: {missing}"


@pytest.mark.parametrize("value", BAD_VALUES["device"])
def test_bad_objective_device(value):
    """The objective's one parameter, ``device``, skips the run with a
    reason naming it."""
    assert set(OBJECTIVE.parameters) == {"device"}
    objective = OBJECTIVE.get_instance(device=value)
    skip, reason = objective.skip(None, None, 3)
    assert skip and "'device' must be one of" in reason, reason


# impossible combinations and component-specific values, with the allowed
# values the message must state
COMBINATIONS = [
    ("quadratic", dict(n_train_tasks=1, n_test_tasks=0), "n_test_tasks",
     "integer >= 1"),                                  # ignored, checked
    ("quadratic", dict(spectrum="wishart", condition_number=0.5),
     "condition_number", r"\[1, \+inf\)"),             # unused, checked
    ("quadratic", dict(spectrum="linspace"), None, None),   # valid
    ("quadratic", dict(condition_number=1.0), None, None),  # valid: L = mu
    ("least_squares", dict(noise=0.0, n_samples=1), None, None),  # valid
    ("mlp", dict(source="cifar"), "source", "one of 'digits', 'mnist'"),
    ("mlp", dict(n_samples=1), "n_samples", "integer >= 2"),
    ("mlp", dict(n_samples=1500, n_test=400), "n_samples' \\+ 'n_test",
     "<= 1797"),
    ("mlp", dict(source="mnist", n_samples=60000, n_test=20000),
     "n_samples' \\+ 'n_test", "<= 70000"),
    ("mlp", dict(hidden=(100, 0)), "hidden", "integer >= 1"),
    ("mlp", dict(hidden=(8, 2.5)), "hidden", "integer >= 1"),
    ("mlp", dict(hidden="wide"), "hidden", "tuple of layer widths"),
    ("mlp", dict(label_noise=1.5), "label_noise", r"\[0, 1\]"),
    ("mlp", dict(label_noise=-0.1), "label_noise", r"\[0, 1\]"),
    ("mlp", dict(hidden=[8, 4], label_noise=1.0), None, None),  # valid
    ("mlp", dict(suites="gelu", activation="gelu"), None, None),  # skipped
    ("mlp", dict(suites="widest"), "suites",
     "known suites \\('wider', 'deeper', 'tanh', 'gelu', 'longer', "
     "'synthetic', 'mnist', or 'all', 'none'\\), got unknown 'widest'"),
    ("conv", dict(suites="deeper"), "suites",
     "known suites \\('wider', 'longer', or 'all', 'none'\\)"),
    # with suites, half of the images are held out from meta-training
    ("mlp", dict(suites="wider", n_samples=500, n_test=500),
     "n_samples' \\+ 'n_test", "<= 898 .*half of them with suites"),
    ("mlp", dict(suites="none", n_samples=500, n_test=500), None, None),
    ("conv", dict(suites="all", n_samples=800, n_test=200),
     "n_samples' \\+ 'n_test", "<= 898"),
    ("quadratic", dict(dtype="float16"), "dtype",
     "one of 'float64', 'float32'"),
]


@pytest.fixture(autouse=True)
def no_fail_fast(monkeypatch):
    """These tests see datasets skip, as in a plain ``benchopt run``."""
    monkeypatch.delenv("BENCHOPT_RAISE_ON_ERROR", raising=False)


def _no_task_drawn(monkeypatch, dataset):
    """Make drawing tasks an error: get_data must stop before it."""
    def boom(seed):
        raise AssertionError("tasks drawn despite an invalid parameter")

    monkeypatch.setitem(type(dataset).get_data.__globals__,
                        "make_generator", boom)


def _assert_dataset_rejects(monkeypatch, name, params, parameter, allowed):
    dataset = make_dataset(_BENCH, name, **params)
    pattern = f"'{parameter}' must .*{allowed or ''}"
    with pytest.raises(ValueError, match=pattern):
        dataset.check_parameters()
    _no_task_drawn(monkeypatch, dataset)
    data = dataset.get_data()
    assert data["train_tasks"] is None and data["test_tasks"] is None
    objective = OBJECTIVE.get_instance()
    skip, reason = objective.skip(**data)
    assert skip
    assert reason.startswith("invalid dataset parameter: ")
    assert re.search(pattern, reason), reason


@pytest.mark.parametrize("name, params, parameter", _rows(DATASETS))
def test_bad_dataset_parameter(monkeypatch, name, params, parameter):
    _assert_dataset_rejects(monkeypatch, name, params, parameter, None)


@pytest.mark.parametrize("name, params, parameter, allowed", COMBINATIONS)
def test_dataset_combination(monkeypatch, name, params, parameter, allowed):
    if parameter is None:             # a valid corner case stays valid
        make_dataset(_BENCH, name, **params).check_parameters()
        return
    _assert_dataset_rejects(monkeypatch, name, params, parameter, allowed)


def test_bad_dataset_fails_fast_with_raise_on_error(monkeypatch):
    """With ``BENCHOPT_RAISE_ON_ERROR`` a bad dataset raises, as a failing
    solver does."""
    monkeypatch.setenv("BENCHOPT_RAISE_ON_ERROR", "true")
    dataset = make_dataset(_BENCH, "quadratic", dim=0)
    with pytest.raises(ValueError, match="'dim' must be an integer >= 1"):
        dataset.get_data()


@pytest.fixture(scope="module")
def small_least_squares():
    dataset = make_dataset(_BENCH, "least_squares", dim=5, n_samples=6,
                           n_train_tasks=2, n_test_tasks=2, horizon=3)
    return make_objective(_BENCH, dataset)


def _assert_solver_rejects(objective, name, params, parameter, allowed):
    solver = make_solver(_BENCH, name, **params)
    pattern = f"'{parameter}' must .*{allowed or ''}"
    with pytest.raises(ValueError, match=pattern):
        solver.skip(**objective.get_objective())


@pytest.mark.parametrize("name, params, parameter", _rows(SOLVERS))
def test_bad_solver_parameter(small_least_squares, name, params, parameter):
    """On least squares (n = 6), which every solver accepts or skips only
    after checking its parameters."""
    _assert_solver_rejects(small_least_squares, name, params, parameter,
                           None)


SOLVER_COMBINATIONS = [
    ("log-unrolled", dict(gradient="exact"), "gradient",
     "one of 'backprop', 'es', 'forward', 'greedy', 'online-pes', 'pes', "
     "'stable', 'tbptt', 'truncated'"),
    ("log-unrolled", dict(gradient="hypergradient"), "gradient",
     "'hypergradient' was renamed 'greedy'"),
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
    ("log-unrolled", dict(meta_lr=-1.0), "meta_lr", r"\(0, \+inf\)"),
    ("learnable-sgdm", dict(meta_optimizer="brent"), "meta_optimizer",
     "one of 'adam', 'rmsprop'"),         # brent needs a scalar theta
    ("learnable-adam", dict(meta_optimizer="projected-gd"), "meta_optimizer",
     "one of 'adam', 'rmsprop'"),         # projected-gd needs plain GD
    ("train-by-validation", dict(meta_objective="square"), "meta_objective",
     "one of 'naive', 'log'"),
    ("train-by-validation", dict(val_fraction=1.0), "val_fraction",
     r"\(0, 1\)"),
    # a split that leaves no sample (n = 6)
    ("train-by-validation", dict(val_fraction=0.05), "val_fraction",
     "at least one training and one validation sample"),
    ("train-by-validation", dict(val_fraction=0.99), "val_fraction",
     "at least one training and one validation sample"),
    ("grid-search", dict(split="validation", val_fraction=0.05),
     "val_fraction", "at least one training and one validation sample"),
    ("sgd", dict(val_fraction=0.95), "val_fraction",
     "at least one training and one validation sample"),
    ("adam", dict(val_fraction=0.01), "val_fraction",
     "at least one training and one validation sample"),
    ("neural-optimizer", dict(split="validation", val_fraction=0.05),
     "val_fraction", "at least one training and one validation sample"),
    # unused under split="train", checked anyway
    ("grid-search", dict(split="train", val_fraction=0.0), "val_fraction",
     r"\(0, 1\)"),
    ("neural-optimizer", dict(split="train", val_fraction=1.0),
     "val_fraction", r"\(0, 1\)"),
    ("grid-search", dict(split="test"), "split",
     "one of 'train', 'validation'"),
    ("grid-search", dict(grid_min=1.0, grid_max=0.1), "grid_max",
     ">= grid_min"),
    ("neural-optimizer", dict(hidden=0), "hidden", "integer >= 1"),
    ("neural-optimizer", dict(hidden=(8,)), "hidden", "integer >= 1"),
    ("neural-optimizer", dict(truncation=0), "truncation", "integer >= 1"),
    ("neural-optimizer", dict(init="metz"), "init",
     "one of 'adam', 'paper'"),
    ("neural-optimizer", dict(truncation_exp=-1.0), "truncation_exp",
     r"\(0, \+inf\)"),
    ("neural-optimizer", dict(meta_loss="mean"), "meta_loss",
     "one of 'average', 'final'"),
    ("neural-optimizer", dict(select_every=0), "select_every",
     "integer >= 1"),
    ("neural-optimizer", dict(meta_optimizer="brent"), "meta_optimizer",
     "one of 'adam', 'rmsprop'"),
    ("neural-optimizer", dict(device="tpu"), "device",
     "one of 'auto', 'cpu', 'cuda'"),
    ("lstm-optimizer", dict(gradient="online-pes", sigma=0.0), "sigma",
     r"\(0, \+inf\)"),
    ("lstm-optimizer", dict(gradient="online-pes", pairs=0), "pairs",
     "integer >= 1"),
    # rules a family does not support still check their parameters
    ("polyak", dict(gamma=0.0), "gamma", r"\(0, \+inf\)"),
    ("hypergradient", dict(variant="subtractive"), "variant",
     "one of 'additive', 'multiplicative'"),
    ("hypergradient", dict(variant="multiplicative", hyper_lr=-0.1),
     "hyper_lr", r"\[0, \+inf\)"),
    ("fixed-step", dict(rule="1/mu"), "rule", "one of '1/L', '2/\\(L\\+mu"),
    ("schedule-free", dict(base="adam"), "base", "one of 'adamw', 'sgd'"),
]


@pytest.mark.parametrize("name, params, parameter, allowed",
                         SOLVER_COMBINATIONS)
def test_solver_combination(small_least_squares, name, params, parameter,
                            allowed):
    _assert_solver_rejects(small_least_squares, name, params, parameter,
                           allowed)


@pytest.mark.parametrize("name", ["polyak", "fixed-step"])
def test_unsupported_family_still_checks(name):
    """A rule skipped on mlp tasks (no f*, no L) still rejects a bad value:
    a typo is an error, never a silent skip."""
    dataset = make_dataset(_BENCH, "mlp", n_samples=20, n_test=20,
                           hidden=(4,), horizon=2, n_train_tasks=1,
                           n_test_tasks=1)
    objective = make_objective(_BENCH, dataset)
    good = make_solver(_BENCH, name)
    assert good.skip(**objective.get_objective())[0]
    bad = {"polyak": dict(gamma=-1.0), "fixed-step": dict(rule="1/mu")}
    solver = make_solver(_BENCH, name, **bad[name])
    with pytest.raises(ValueError, match=f"'{next(iter(bad[name]))}'"):
        solver.skip(**objective.get_objective())


@pytest.fixture(scope="module")
def small_quadratic():
    dataset = make_dataset(_BENCH, "quadratic", dim=5, horizon=3)
    return make_objective(_BENCH, dataset)


@pytest.mark.parametrize("name", ["neural-optimizer", "adam"])
@pytest.mark.parametrize("val_fraction", ["held_out", "auto"])
def test_validation_on_a_family_without_samples_skips(
        small_quadratic, small_least_squares, name, val_fraction):
    """Train-by-validation (``"held_out"``, or ``"auto"``: held-out samples
    where the family has them, else a fraction of the training samples) on
    quadratics, whose tasks have no samples at all: a skip that says why;
    on least squares, which has both, no skip; a misspelling is an
    error."""
    solver = make_solver(_BENCH, name, split="validation",
                         val_fraction=val_fraction)
    skip, reason = solver.skip(**small_quadratic.get_objective())
    assert skip and "no samples to hold out" in reason, reason
    assert not solver.skip(**small_least_squares.get_objective())[0]
    typo = make_solver(_BENCH, name, split="validation",
                       val_fraction="held-out")
    with pytest.raises(ValueError, match="'val_fraction' must be a number "
                       "in \\(0, 1\\), 'held_out' or 'auto'"):
        typo.skip(**small_least_squares.get_objective())


def test_held_out_validation_without_held_out_samples_says_what_to_use(
        small_least_squares):
    """A family with training samples but none held out of its own (here
    least squares' meta-test tasks, drawn without them): the reason names
    the fraction of the training samples to use instead."""
    tasks = small_least_squares.test_tasks
    assert tasks.held_out is None
    reason = tasks.held_out_unavailable()
    assert "no held-out samples" in reason
    assert "fraction of the training samples" in reason
