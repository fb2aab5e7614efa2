"""The pieces of the learned optimizers' one meta-training recipe: tasks
set apart for meta-validation (``TaskBatch.take``), held-out samples of
least-squares tasks, ``val_fraction="auto"``, the budget in inner-gradient
evaluations and the final selection."""

import math

import pytest
import torch

from benchmark_utils.meta_gradients import get_estimator
from benchmark_utils.meta_optimizers import make_meta_optimizer
from benchmark_utils.meta_solver import (
    AUTO_FRACTION, HELD_OUT, DEFAULT_BUDGET, resolve_val_fraction, set_apart,
    validation_tasks,
)
from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
from benchmark_utils.meta_train import MetaTrainer, MetaValidation
from benchmark_utils.optimizers import SGDMomentum
from benchmark_utils.tasks import make_generator, make_least_squares_tasks
from conftest import make_dataset, make_objective, make_solver


def small_mlp(bench, **params):
    return make_objective(bench, make_dataset(bench, "mlp", **{
        **dict(n_samples=40, n_test=40, hidden=(8,), horizon=6,
               n_train_tasks=4, n_test_tasks=2), **params}))


def test_take_selects_whole_tasks(bench):
    tasks = small_mlp(bench).train_tasks
    part = tasks.take([1, 3])
    assert part.n_tasks == 2
    w = tasks.w0
    for name in ("train", "test"):
        full = tasks.loss(name)(w)
        assert torch.equal(part.loss(name)(w[[1, 3]]), full[[1, 3]])
    assert torch.equal(part.inner_grad(w[[1, 3]], 2),
                       tasks.inner_grad(w, 2)[[1, 3]])
    ls = make_least_squares_tasks(5, 7, 4, 0.5, make_generator(0),
                                  held_out_gen=make_generator(1))
    part = ls.take([4])
    assert torch.equal(part.w_star, ls.w_star[[4]])
    assert torch.equal(part.held_out(ls.w0[[4]]), ls.held_out(ls.w0)[[4]])


def test_set_apart_keeps_a_quarter_for_meta_validation(bench):
    tasks = small_mlp(bench, n_train_tasks=8).train_tasks
    train, val = set_apart(tasks)
    assert (train.n_tasks, val.n_tasks) == (6, 2)
    assert torch.equal(val.w0, tasks.w0[6:])
    one = small_mlp(bench, n_train_tasks=1).train_tasks
    assert set_apart(one) == (one, None)


def test_the_solver_meta_trains_and_selects_on_disjoint_tasks(bench):
    obj = small_mlp(bench, n_train_tasks=8)
    solver = make_solver(bench, "adafac-optimizer", device="cpu")
    solver.set_objective(**obj.get_objective())
    assert solver.problem.tasks.n_tasks == 6
    assert solver.metaval_tasks.n_tasks == 2
    assert torch.equal(solver.metaval_tasks.w0, obj.train_tasks.w0[6:])
    unselected = make_solver(bench, "adafac-optimizer", device="cpu",
                             select_every=None)
    unselected.set_objective(**obj.get_objective())
    assert unselected.problem.tasks.n_tasks == 8


def test_least_squares_held_out_samples_leave_the_tasks_unchanged():
    plain = make_least_squares_tasks(3, 10, 6, 1.0, make_generator(4))
    held = make_least_squares_tasks(3, 10, 6, 1.0, make_generator(4),
                                    held_out_gen=make_generator(5))
    assert plain.held_out is None and held.held_out is not None
    assert torch.equal(plain.samples[0], held.samples[0])
    assert torch.equal(plain.w_star, held.w_star)
    validating = validation_tasks(held, "auto")
    w = torch.randn(3, 10, dtype=torch.float64)
    # trained on all 6 samples, validated on 6 fresh ones
    assert torch.equal(validating.train(w), held.train(w))
    assert torch.equal(validating.validation(w), held.held_out(w))
    assert not torch.equal(validating.validation(w), held.train(w))


def test_auto_validation_is_chosen_by_capability():
    held = make_least_squares_tasks(2, 5, 6, 1.0, make_generator(0),
                                    held_out_gen=make_generator(1))
    plain = make_least_squares_tasks(2, 5, 6, 1.0, make_generator(0))
    assert resolve_val_fraction(held, "auto") == HELD_OUT
    assert resolve_val_fraction(plain, "auto") == AUTO_FRACTION
    assert resolve_val_fraction(plain, 0.25) == 0.25
    assert validation_tasks(plain, "auto").validation.q.shape[1] == 3


def _trainer(budget, select_every=5, selection=None):
    tasks = make_least_squares_tasks(4, 6, 5, 0.5, make_generator(2),
                                     held_out_gen=make_generator(3))
    train, val = set_apart(tasks)
    problem = MetaProblem(validation_tasks(train, "held_out"),
                          SGDMomentum(0.01, 0.5),
                          MetaObjective("naive", "validation"), 10)
    val = validation_tasks(val, "held_out")
    optimizer = problem.optimizer
    return MetaTrainer(
        problem, get_estimator("tbptt", meta_loss="final", truncation=4),
        make_meta_optimizer("adam", 0.05, optimizer),
        optimizer.init_theta(),
        selection=selection or MetaValidation(problem, val),
        select_every=select_every, budget=budget)


@pytest.mark.parametrize("budget", [100, 333, 1000])
def test_a_budgeted_run_never_overspends(budget):
    trainer = _trainer(budget)
    # one full-batch run of 1 meta-validation task (restarts are the same)
    assert trainer.selection.cost == 10
    assert trainer.inner_gradient_evaluations == 10     # the start
    while trainer.within_budget():
        trainer.step()
    trainer.finish()
    assert trainer.inner_gradient_evaluations <= budget
    # each meta-step costs 30 (3 tasks x 10 steps): one more would not fit
    assert trainer.inner_gradient_evaluations + 30 + 10 > budget
    assert trainer.selected_at == trainer.meta_steps    # the end scored


def test_finish_scores_the_last_theta_once():
    trainer = _trainer(None, select_every=5)
    for _ in range(7):
        trainer.step()
    spent = trainer.inner_gradient_evaluations
    trainer.finish()
    assert trainer.inner_gradient_evaluations == spent + 10
    trainer.finish()                                # already scored
    assert trainer.inner_gradient_evaluations == spent + 10


def test_a_budget_in_runs_is_the_cost_of_that_many_runs_of_every_task():
    from benchmark_utils.meta_solver import budget_evaluations, check_budget
    assert check_budget(None) is None
    assert check_budget(300) == (300, None)
    assert check_budget("20 runs") == (20, "runs")
    # mlp's defaults (8 tasks, T = 100) and least squares' (20, T = 40):
    # the 16,000 inner gradients the learners had before budgets in runs
    assert budget_evaluations(DEFAULT_BUDGET, 8 * 100) == 16000
    assert budget_evaluations(DEFAULT_BUDGET, 20 * 40) == 16000
    assert budget_evaluations(DEFAULT_BUDGET, 4 * 60) == 4800     # conv
    assert budget_evaluations(1234, 8 * 100) == 1234
    assert budget_evaluations(None, 8 * 100) is None
    for bad in ("0 runs", "2.5 runs", "\u00b2 runs", "20 epochs", "runs",
                "16000", 0, True):
        with pytest.raises(ValueError, match="'budget'"):
            check_budget(bad)


def test_every_learned_optimizer_has_the_same_default_budget(bench):
    from benchmark_utils.meta_solver import LearnedOptimizerSolver
    learners = [cls for cls in bench.get_solvers()
                if issubclass(cls, LearnedOptimizerSolver)]
    assert len(learners) >= 5
    for cls in learners:
        assert cls.parameters["budget"] == [DEFAULT_BUDGET], cls.name
        assert "validation" in cls.parameters["split"], cls.name
        assert cls.parameters["val_fraction"] == ["auto"], cls.name


def test_a_theta_replaces_the_best_only_beyond_the_noise():
    from benchmark_utils.meta_train import improves
    best = torch.tensor([1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    # a consistent gain on every task
    assert improves(best - 0.01, best)
    # a mean gain smaller than its standard error: noise
    assert not improves(torch.tensor([0.9, 1.1, 0.95, 1.04],
                                     dtype=torch.float64), best)
    assert not improves(best + 0.01, best)
    assert not improves(torch.tensor([0.5, math.inf, 0.5, 0.5],
                                     dtype=torch.float64), best)
    assert improves(best, torch.full((4,), math.inf, dtype=torch.float64))
    assert improves(torch.tensor([0.9], dtype=torch.float64),
                    torch.tensor([1.0], dtype=torch.float64))


class _Scripted:
    """A selection whose scores for the k-th theta scored are given."""

    cost = 0

    def __init__(self, *scores):
        self.scores_of = iter(torch.tensor(s, dtype=torch.float64)
                              for s in scores)

    def scores(self, theta):
        return next(self.scores_of)


def _select_over(*scores):
    """The meta-step whose theta a trainer hands back when its k-th score
    (start, then every meta-step) is ``scores[k]``."""
    trainer = _trainer(None, select_every=1, selection=_Scripted(*scores))
    thetas = [trainer.theta.clone()]
    for _ in scores[1:]:
        trainer.step()
        thetas.append(trainer.theta.clone())
    (k,) = [i for i, t in enumerate(thetas)
            if torch.equal(t, trainer.result().theta)]
    # scripts/selection_rules.py judges the rule by replaying it on the
    # scored thetas: at k = 1 it hands back what the trainer did, and an
    # infinite threshold keeps the start
    from scripts.selection_rules import replay
    assert [step for step, _, _ in trainer.scored] == list(range(len(scores)))
    assert replay(trainer.scored, 1.0) == k
    assert replay(trainer.scored, math.inf) == 0
    return k


def test_the_best_candidate_beyond_the_noise_is_handed_back():
    start = [1.0, 1.0, 1.0, 1.0]
    # only noise-level gains: the start stays
    assert _select_over(start, [0.9, 1.1, 0.95, 1.04], [1.0] * 4) == 0
    # a clear gain, then a clearer one: the lowest mean wins, although it
    # beats the first candidate by less than the noise
    assert _select_over(start, [0.8, 0.8, 0.8, 0.8],
                        [0.7, 0.8, 0.75, 0.7]) == 2
    # a lower mean that does not beat the start beyond the noise is no
    # candidate
    assert _select_over(start, [0.95, 0.95, 0.95, 0.95],
                        [0.2, 1.5, 0.1, 1.6]) == 1


def test_meta_validation_scores_every_task_and_run(bench):
    obj = small_mlp(bench)
    solver = make_solver(bench, "neural-optimizer", split="validation",
                         device="cpu", hidden=4)
    solver.set_objective(**obj.get_objective())
    validation = solver.selection()["selection"]
    scores = validation.scores(solver.theta0)
    assert scores.shape == (2 * solver.metaval_tasks.n_tasks,)  # 2 runs
    assert validation(solver.theta0) == pytest.approx(float(scores.mean()))
    assert validation.cost == 2 * obj.horizon * solver.metaval_tasks.n_tasks
