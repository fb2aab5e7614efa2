"""Held-out meta-test suites: disjoint from the meta-train data, what their
names say, skipped with a reason where they cannot be built or run, and
evaluated once, at the end of a run."""

from dataclasses import dataclass
import warnings

import numpy as np
import pytest
import torch

from benchmark_utils import scoring
from benchmark_utils.held_out import IN_DISTRIBUTION, final_report
from benchmark_utils.meta_train import SolverResult
from benchmark_utils.tasks.mlp import MLPTasks
from benchmark_utils.tasks.suites import (
    VARIATIONS, Suite, SuiteUnavailable, build_suites, check_suites,
    split_pool,
)
from conftest import gd_result, make_dataset, make_objective, make_solver

SMALL = dict(n_samples=40, n_test=40, hidden=(8,), horizon=5,
             n_train_tasks=2, n_test_tasks=2)


@pytest.fixture(autouse=True)
def no_disk_cache(monkeypatch):
    monkeypatch.setattr(scoring.YARDSTICKS, "folder", None)


@pytest.fixture(scope="module")
def every_suite(bench):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # mnist: absent, skipped
        return make_objective(bench, make_dataset(bench, "mlp",
                                                  suites="all", **SMALL))


def rows(tasks):
    """Every image (as bytes) a batch of tasks holds, train and test."""
    out = set()
    for part in (tasks.train, tasks.test):
        X = part.X.reshape(-1, part.X.shape[-1]).double().numpy()
        out.update(map(bytes, X))
    return out


def test_no_held_out_image_is_a_meta_train_image(every_suite):
    meta_train = rows(every_suite.train_tasks)
    held_out = {IN_DISTRIBUTION: every_suite.test_tasks}
    held_out.update({name: s.tasks for name, s in every_suite.suites.items()
                     if s.tasks is not None})
    assert set(held_out) >= {IN_DISTRIBUTION, "wider", "deeper", "tanh",
                             "gelu", "longer", "synthetic"}
    for name, tasks in held_out.items():
        assert not rows(tasks) & meta_train, name


def test_split_pool_is_a_partition_that_keeps_copies_together():
    images = np.repeat(np.arange(50.0)[:, None], 2, axis=1)
    images = np.concatenate([images, images[:5]])          # 5 duplicates
    train, test = split_pool(images, torch.Generator().manual_seed(0))
    assert sorted(np.concatenate([train, test])) == list(range(55))
    assert not {bytes(r) for r in images[train]} & {
        bytes(r) for r in images[test]}
    assert abs(len(test) - 27) <= 2


def test_each_suite_is_what_its_name_says(every_suite):
    base, suites = every_suite.test_tasks, every_suite.suites
    assert base.sizes == (64, 8, 10) and base.activation == "relu"
    assert suites["wider"].tasks.sizes == (64, 32, 10)
    assert suites["deeper"].tasks.sizes == (64, 8, 8, 10)
    assert suites["tanh"].tasks.activation == "tanh"
    assert suites["gelu"].tasks.activation == "gelu"
    assert suites["longer"].horizon == 50 == 10 * every_suite.horizon
    assert suites["longer"].tasks.schedule.steps == 50
    synthetic = suites["synthetic"].tasks.train.X
    assert synthetic.shape[-1] == 64 and float(synthetic.min()) < 0
    for name in ("wider", "deeper", "tanh", "gelu", "synthetic"):
        assert suites[name].horizon == 5
        assert suites[name].tasks.n_tasks == 2
    mnist = suites["mnist"]
    assert mnist.tasks is not None or "benchopt prepare" in mnist.unavailable


def test_a_suite_is_the_same_whichever_others_are_asked(bench):
    def wider(suites):
        obj = make_objective(bench, make_dataset(bench, "mlp", suites=suites,
                                                 **SMALL))
        return obj.suites["wider"].tasks, obj.train_tasks

    (alone, train_a), (with_others, train_b) = wider("wider"), wider(
        ("deeper", "wider"))
    assert torch.equal(alone.w0, with_others.w0)
    assert torch.equal(alone.train.X, with_others.train.X)
    assert torch.equal(train_a.w0, train_b.w0)


def test_check_suites_normalises_and_names_the_known_ones():
    known = tuple(VARIATIONS)
    assert check_suites("none", known) == () == check_suites(None, known)
    assert check_suites("all", known) == known
    asked = ["tanh", "wider", "tanh"]
    assert check_suites(asked, known) == ("wider", "tanh")
    for bad in ("widest", ("wider", "widest"), 3, ("wider", 3)):
        with pytest.raises(ValueError, match="parameter 'suites' must") as e:
            check_suites(bad, known)
        assert "'wider', 'deeper'" in str(e.value)


def test_a_suite_that_cannot_be_built_is_skipped_with_its_reason(bench):
    dataset = make_dataset(bench, "mlp", activation="gelu",
                           suites=("gelu", "wider"), **SMALL)
    with pytest.warns(UserWarning, match="suite 'gelu' skipped: .*already"):
        obj = make_objective(bench, dataset)
    assert obj.suites["gelu"].tasks is None
    assert obj.test_tasks.activation == "gelu"
    result = gd_result(0.1)
    result = SolverResult(result.optimizer, result.theta, final=True)
    metrics = obj.evaluate_result(result)
    assert "suite_wider_value" in metrics
    assert not any(k.startswith("suite_gelu") for k in metrics)
    artefact = obj.save_final_results(result)
    assert "already 'gelu'" in artefact["skipped"]["gelu"]
    assert set(artefact["suites"]) == {IN_DISTRIBUTION, "wider"}


def test_a_network_without_hidden_layers_has_no_network_suites(bench):
    params = dict(SMALL, hidden=(), suites=("wider", "deeper", "tanh",
                                            "longer"))
    with pytest.warns(UserWarning, match="no hidden layer"):
        obj = make_objective(bench, make_dataset(bench, "mlp", **params))
    assert {n for n, s in obj.suites.items() if s.tasks is None} == {
        "wider", "deeper", "tanh"}
    assert obj.suites["longer"].tasks.sizes == (64, 10)


def test_build_suites_turns_unavailable_into_a_skip_and_lets_bugs_raise():
    def build(name):
        if name == "missing":
            raise SuiteUnavailable("no data here")
        if name == "bug":
            raise KeyError(name)
        return Suite(None, 1)

    out = build_suites(("missing", "fine"), build)
    assert out["missing"].unavailable == "no data here"
    assert out["fine"].unavailable is None
    with pytest.raises(KeyError):
        build_suites(("bug",), build)


@dataclass(frozen=True, eq=False)
class Broken(MLPTasks):
    """Tasks whose inner gradient fails (e.g. a shape no network accepts)."""

    def inner_grad(self, w, step):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")


def test_a_suite_that_fails_to_run_loses_nothing_else(every_suite):
    tasks = every_suite.test_tasks
    suites = {"wider": every_suite.suites["wider"],
              "broken": Suite(Broken(**{f: getattr(tasks, f) for f in (
                  "sizes", "w0", "train", "test", "schedule", "seed")}), 5)}
    report = final_report(tasks, 5, suites, gd_result(0.1))
    assert "RuntimeError: mat1" in report.artefact["skipped"]["broken"]
    assert "suite_wider_value" in report.columns
    assert set(report.artefact["suites"]) == {IN_DISTRIBUTION, "wider"}


def test_suites_are_evaluated_on_final_results_only(every_suite):
    running = gd_result(0.1)
    final = SolverResult(running.optimizer, running.theta, final=True)
    assert not any(k.startswith("suite_")
                   for k in every_suite.evaluate_result(running))
    metrics = every_suite.evaluate_result(final)
    for name, suite in every_suite.suites.items():
        if suite.tasks is not None:
            assert isinstance(metrics[f"suite_{name}_value"], float)
            assert isinstance(metrics[f"suite_{name}_test_accuracy"], float)
    # the artefact comes at the end of every run, final or not (a timeout)
    artefact = every_suite.save_final_results(running)
    assert len(artefact["suites"][IN_DISTRIBUTION]["test_loss"]) == 2
    assert len(artefact["suites"]["longer"]["train_loss"]) == 2


def test_no_suites_no_report_and_the_family_of_the_paper(bench):
    obj = make_objective(bench, make_dataset(bench, "mlp", score=False,
                                             **SMALL))
    assert obj.suites == {} and obj.save_final_results(gd_result(0.1)) is None
    # without suites, the tasks are drawn as before (all images shared)
    with_suites = make_objective(bench, make_dataset(bench, "mlp",
                                                     suites="wider", **SMALL))
    assert not torch.equal(obj.train_tasks.train.X,
                           with_suites.train_tasks.train.X)


def test_a_self_stopping_solver_marks_its_last_result_final(bench):
    obj = make_objective(bench, make_dataset(bench, "mlp", **SMALL))
    solver = make_solver(bench, "neural-optimizer", split="train",
                         truncation=5, hidden=4, device="cpu",
                         max_meta_steps=2)
    solver.set_objective(**obj.get_objective())
    seen = []

    def callback():         # benchopt evaluating at every call
        seen.append(solver.get_result()["result"].final)
        return True

    solver.run(callback)
    assert seen == [False, False, True]
    # stopped from outside (a timeout): the last evaluation is not final,
    # the artefact of save_final_results covers that case
    seen.clear()
    solver.run(lambda: seen.append(solver.get_result()["result"].final)
               or len(seen) < 2)
    assert seen == [False, False]


@pytest.mark.parametrize("name", ["grid-search", "fixed-step"])
def test_run_once_solvers_are_always_final(bench, name):
    obj = make_objective(bench, make_dataset(bench, "least_squares", dim=3,
                                             n_samples=4, horizon=3))
    solver = make_solver(bench, name)
    solver.set_objective(**obj.get_objective())
    solver.run(1)
    assert solver.get_result()["result"].final
