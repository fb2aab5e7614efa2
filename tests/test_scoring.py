"""The speedup over tuned Adam: Adam against its own envelope is at most 1,
the crossing is interpolated and censored at 10, the yardstick is computed
once, and a family without a loss curve is skipped with the reason."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from benchmark_utils import scoring
from benchmark_utils.held_out import IN_DISTRIBUTION, final_report
from benchmark_utils.image_data import load_digits
from benchmark_utils.optimizers import Adam
from benchmark_utils.tasks import make_generator, make_mlp_tasks
from benchmark_utils.tasks.mlp import MLPTasks
from benchmark_utils.unroll import unroll
from conftest import gd_result, make_dataset, make_objective, run_solver

HORIZON = 8


@pytest.fixture(scope="module")
def tasks():
    X, y = load_digits()
    return make_mlp_tasks(X, y, 3, 40, 40, (8,), 16, 0.0, HORIZON,
                          make_generator(0), torch.float32)


@pytest.fixture(scope="module")
def yardsticks():
    return scoring.Yardsticks(folder=None)


def final_losses(tasks, optimizer, theta, horizon):
    with torch.no_grad():
        w = unroll(tasks, optimizer, theta, horizon)
    return {s: scoring._finite(tasks.loss(s)(w)) for s in scoring.SPLITS}


def test_tuned_adam_against_its_own_envelope_is_at_most_one(tasks,
                                                            yardsticks):
    adam = Adam()
    best = {s: np.zeros(tasks.n_tasks) for s in scoring.SPLITS}
    for lr in scoring.ADAM_GRID:
        losses = final_losses(tasks, adam, adam.theta_from(step_size=lr),
                              HORIZON)
        for split, (speedup, censored) in yardsticks.score(
                tasks, HORIZON, losses).items():
            assert (speedup <= 1.0).all(), (lr, split, speedup)
            assert not censored.any()
            best[split] = np.maximum(best[split], speedup)
    # the best learning rate at T is where the envelope stands at T
    assert (best["train"] > 0.5).all(), best


def test_the_tuned_adam_solver_scores_at_most_one(bench, monkeypatch):
    monkeypatch.setattr(scoring.YARDSTICKS, "folder", None)
    obj = make_objective(bench, make_dataset(
        bench, "mlp", n_samples=40, n_test=40, hidden=(8,), horizon=6,
        n_train_tasks=2, n_test_tasks=2, score=True))
    solver, metrics = run_solver(bench, obj, "adam")
    scores = obj.save_final_results(**solver.get_result())
    scores = scores["suites"][IN_DISTRIBUTION]
    for split in scoring.SPLITS:
        assert max(scores[f"speedup_{split}"]) <= 1.0
        assert metrics[f"speedup_{split}"] <= 1.0


def test_speedup_interpolates_flags_and_floors():
    steps = np.array([0, 5, 10, 20, 100])
    env = np.array([[4.0, 3.0, 2.0, 1.0, 0.5]] * 6)
    losses = [2.5, 1.0, 0.1, np.inf, 5.0, 4.0]
    speedup, censored = scoring.speedups(steps, env, losses, 10)
    np.testing.assert_allclose(speedup, [0.75, 2.0, 10.0, 0.0, 0.0, 0.0])
    assert censored.tolist() == [False, False, True, False, False, False]


def test_envelope_is_the_running_minimum_of_the_best_learning_rate():
    curves = np.array([[[3.0, 2.0, 2.5, np.nan]],
                       [[3.0, 2.5, 1.5, 1.8]]])
    np.testing.assert_array_equal(scoring.envelope(curves),
                                  [[3.0, 2.0, 1.5, 1.5]])


def test_checkpoints_cover_ten_horizons_and_hit_the_horizon():
    steps = scoring.checkpoints(100)
    assert steps[0] == 0 and steps[-1] == 1000 and 100 in steps
    assert (np.diff(steps) > 0).all() and np.diff(steps).max() <= 10


def test_the_yardstick_is_computed_once_and_cached_on_disk(tasks, tmp_path):
    first = scoring.Yardsticks(folder=tmp_path, grid=(1e-3, 1e-2))
    steps, env = first.get(tasks, HORIZON)
    first.get(tasks, HORIZON)
    assert first.computed == 1 and len(list(tmp_path.glob("*.npz"))) == 1
    second = scoring.Yardsticks(folder=tmp_path, grid=(1e-3, 1e-2))
    steps2, env2 = second.get(tasks, HORIZON)
    assert second.computed == 0
    np.testing.assert_array_equal(steps, steps2)
    for split in scoring.SPLITS:
        np.testing.assert_array_equal(env[split], env2[split])
    # other tasks, another horizon or another grid: another yardstick
    keys = {first.key(tasks, HORIZON), first.key(tasks.restart(1), HORIZON),
            first.key(tasks, HORIZON + 1),
            scoring.Yardsticks(folder=None).key(tasks, HORIZON)}
    assert len(keys) == 4


@dataclass(frozen=True, eq=False)
class NoTestLoss(MLPTasks):
    """Tasks with a training loss but no test loss curve."""

    def loss(self, split):
        if split == "test":
            raise ValueError("these tasks have no 'test' split")
        return super().loss(split)

    def metrics(self, w, horizon):
        return {"value": 0.0, "train_loss": 0.0, "log_objective": 0.0,
                "diverged_fraction": 0.0}


def test_a_family_without_a_loss_curve_is_not_scored(tasks, yardsticks):
    broken = NoTestLoss(**{f: getattr(tasks, f) for f in (
        "sizes", "w0", "train", "test", "schedule", "seed")})
    assert "no 'test' loss curve" in scoring.unavailable(broken)
    assert scoring.unavailable(tasks) is None
    report = final_report(broken, HORIZON, {}, gd_result(0.1), score=True,
                          yardsticks=yardsticks)
    assert "no 'test' loss curve" in report.artefact["skipped"][
        IN_DISTRIBUTION]
    per_task = report.artefact["suites"][IN_DISTRIBUTION]
    assert "speedup_train" not in per_task and len(per_task[
        "train_loss"]) == 3                       # what could be computed


def test_the_learning_rate_grid_in_one_tiled_run_is_the_loop(tasks):
    """Every learning rate in one vectorised run (tasks.tile) gives the
    envelope of one run per learning rate, to the bit; a family without
    tile falls back to the loop."""
    tiled = tasks.tile(3)
    assert tiled.n_tasks == 3 * tasks.n_tasks
    assert torch.equal(tiled.w0[tasks.n_tasks:2 * tasks.n_tasks], tasks.w0)
    steps, vectorised = scoring.adam_envelopes(tasks, HORIZON)

    @dataclass(frozen=True, eq=False)
    class Untileable(MLPTasks):
        def tile(self, copies):
            return None

    plain = Untileable(**{f: getattr(tasks, f) for f in (
        "sizes", "w0", "train", "test", "schedule", "seed")})
    steps_loop, looped = scoring.adam_envelopes(plain, HORIZON)
    assert np.array_equal(steps, steps_loop)
    for split in scoring.SPLITS:
        assert np.array_equal(vectorised[split], looped[split]), split
