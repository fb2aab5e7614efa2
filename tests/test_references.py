"""Reference solvers: hand-designed and tuning-free rules, no meta-training.

Their update rules, the per-task wrapping of torch.optim optimizers, and
that every reference runs through the objective with a zero tuning cost, on
the linear families and on any family that only has the required members
of the task contract (``w0``, ``inner_grad``, ``inner_loss``, ``loss``,
``metrics``).
"""

import math

import dadaptation
import dog
import prodigyopt
import pytest
import schedulefree
import torch

from benchmark_utils.optimizers import (
    GradientDescent, HypergradientDescent, PerTaskTorchOptimizer, PolyakStep,
)
from benchmark_utils.tasks import (
    TaskBatch, make_generator, make_least_squares_tasks, make_quadratic_tasks,
)
from benchmark_utils.unroll import unroll
from conftest import (
    float64, log_eta, make_dataset, make_objective, run_solver,
)

REFERENCES = ["hypergradient", "dog", "prodigy", "dadaptation",
              "schedule-free", "polyak", "fixed-step"]


@pytest.fixture(scope="module")
def quad():
    return make_quadratic_tasks(3, 6, "wishart", 1.0, make_generator(0))


def test_inner_loss_is_what_inner_grad_differentiates(quad):
    ls = make_least_squares_tasks(2, 5, 4, 0.5, make_generator(1))
    for tasks in (quad, ls):
        w = torch.randn(tasks.w0.shape, dtype=torch.float64,
                        generator=make_generator(2)).requires_grad_()
        (grad,) = torch.autograd.grad(tasks.inner_loss(w, 0).sum(), w)
        torch.testing.assert_close(grad, tasks.inner_grad(w, 0))


@pytest.mark.parametrize("variant", ["additive", "multiplicative"])
def test_hypergradient_without_hyper_step_is_gd(quad, variant):
    eta = 1e-3
    hd = unroll(quad, HypergradientDescent(variant), float64([eta, 0.0]), 20)
    gd = unroll(quad, GradientDescent(), log_eta(eta), 20)
    torch.testing.assert_close(hd, gd)


def test_hypergradient_updates_follow_baydin(quad):
    alpha0, beta = 1e-3, 0.5
    w0 = quad.w0
    g0 = quad.inner_grad(w0, 0)
    w1 = w0 - alpha0 * g0
    g1 = quad.inner_grad(w1, 1)
    dot = (g0 * g1).sum(-1, keepdim=True)
    cos = dot / (g0.norm(dim=-1, keepdim=True) * g1.norm(dim=-1,
                                                         keepdim=True))
    expected = {"additive": alpha0 + beta * dot,
                "multiplicative": alpha0 * (1 + beta * cos)}
    for variant, alpha1 in expected.items():
        w2 = unroll(quad, HypergradientDescent(variant),
                    float64([alpha0, beta]), 2)
        torch.testing.assert_close(w2, w1 - alpha1 * g1)


def test_polyak_halves_a_one_dimensional_quadratic():
    """f = lam w^2 / 2: (f - 0) / f'^2 = 1 / (2 lam), so w_{k+1} = w_k / 2."""
    lam = float64([[4.0], [0.25]])
    tasks = make_quadratic_tasks(2, 1, "linspace", 1.0, make_generator(0))
    tasks = type(tasks)("quadratic", tasks.w0, train=type(tasks.train)(
        lam.sqrt().unsqueeze(-1), torch.zeros(2, 1, dtype=torch.float64),
        torch.zeros(2, dtype=torch.float64)), test=tasks.test)
    w = unroll(tasks, PolyakStep(0.0), float64(1.0), 10)
    torch.testing.assert_close(w, tasks.w0 / 2 ** 10)


@pytest.mark.parametrize("cls", [dog.DoG, prodigyopt.Prodigy,
                                 dadaptation.DAdaptSGD,
                                 schedulefree.SGDScheduleFree])
def test_torch_optimizers_run_each_task_alone(quad, cls):
    """One instance per task: a batch gives what each task gives alone
    (their global step-size estimates would otherwise couple the tasks)."""
    wrapped = PerTaskTorchOptimizer.from_class(cls, lr=1e-2) \
        if cls is schedulefree.SGDScheduleFree \
        else PerTaskTorchOptimizer.from_class(cls)
    with torch.no_grad():
        batch = unroll(quad, wrapped, torch.zeros(0), 15)
    for j in range(quad.n_tasks):
        w = quad.w0[j].clone()
        opt = wrapped.factory([w])
        if hasattr(opt, "train"):
            opt.train()
        P = quad.train.P[j]                        # f_j = 1/2 ||P w||^2
        for k in range(15):
            w.grad = P.T @ (P @ w.detach())
            opt.step()
        if hasattr(opt, "eval"):
            opt.eval()
        torch.testing.assert_close(batch[j], w.detach())
    assert not torch.equal(batch, quad.w0)


def test_schedule_free_is_evaluated_at_its_average(quad):
    wrapped = PerTaskTorchOptimizer.from_class(schedulefree.SGDScheduleFree,
                                               lr=1e-2)
    with torch.no_grad():
        state = wrapped.init(quad.w0)
        w = quad.w0
        for k in range(10):
            w, state = wrapped.update(w, quad.inner_grad(w, k), state, None)
        y = w.clone()
        x = wrapped.finalize(w, state)
    assert not torch.allclose(x, y)        # y_k (gradients) != x_k (average)
    assert (quad.train(x) < quad.train(quad.w0)).all()


@pytest.fixture(scope="module")
def objectives(bench):
    out = {}
    for name, params in [
        ("quadratic", dict(spectrum="wishart", dim=6, horizon=30)),
        ("least_squares", dict(dim=12, n_samples=8, n_train_tasks=3,
                               n_test_tasks=3, horizon=20)),
    ]:
        out[name] = make_objective(bench, make_dataset(bench, name, **params))
    return out


@pytest.mark.parametrize("solver", REFERENCES)
@pytest.mark.parametrize("family", ["quadratic", "least_squares"])
def test_reference_runs_with_no_tuning_cost(bench, objectives, solver,
                                            family):
    obj = objectives[family]
    if solver == "polyak" and family != "quadratic":
        from conftest import make_solver
        skip, reason = make_solver(bench, solver).skip(**obj.get_objective())
        assert skip and "optimal value" in reason
        return
    _, metrics = run_solver(bench, obj, solver)
    assert metrics["inner_gradient_evaluations"] == 0.0
    assert metrics["meta_grad_failures"] == 0.0
    assert 0.0 <= metrics["diverged_fraction"] <= 1.0
    # the training loss drops (the test loss of least squares may rise as
    # the rule fits the noise: n_samples < dim)
    start = obj.test_tasks.metrics(obj.test_tasks.w0, obj.horizon)
    if solver != "hypergradient":      # the additive rule may diverge
        assert metrics["train_loss"] < start["train_loss"], (solver, family)


def test_fixed_rules_use_the_spectrum(bench, objectives):
    obj = objectives["quadratic"]          # one task: meta-train = meta-test
    lam = obj.train_tasks.train.spectrum.eigvals
    L, mu = float(lam.max()), float(lam.min())
    for rule, eta in [("1/L", 1 / L), ("2/(L+mu)", 2 / (L + mu))]:
        _, metrics = run_solver(bench, obj, "fixed-step", rule=rule)
        assert metrics["step_size"] == pytest.approx(eta, rel=1e-14)
        exact = obj.test_tasks.exact_gd_metrics(metrics["step_size"],
                                                obj.horizon)
        assert metrics["value"] == exact["value"]


class ToyTasks(TaskBatch):
    """A non-linear family with only the required members of the task
    contract: ``f_j(w) = sum log cosh(w - a_j)``, as the MLP family."""

    family = "toy"

    def __init__(self, n_tasks=3, d=4):
        gen = make_generator(3)
        self.a = torch.randn(n_tasks, d, generator=gen, dtype=torch.float64)
        self.w0 = torch.zeros(n_tasks, d, dtype=torch.float64)

    def inner_loss(self, w, step):
        return torch.log(torch.cosh(w - self.a)).sum(-1)

    def inner_grad(self, w, step):
        return torch.tanh(w - self.a)

    def loss(self, split):
        return lambda w: self.inner_loss(w, 0)

    def metrics(self, w, horizon):
        value = self.inner_loss(w, 0)
        return dict(value=float(value.mean()), train_loss=float(
            value.mean()), log_objective=float(value.log().mean()) / horizon,
            diverged_fraction=float((~torch.isfinite(value)).double().mean()))


@pytest.mark.parametrize("solver", REFERENCES)
def test_references_run_on_a_family_with_only_the_required_members(
        bench, solver):
    from benchmark_utils.evaluation import evaluate
    from conftest import make_solver
    tasks = ToyTasks()
    ref = make_solver(bench, solver)
    skip, reason = ref.skip(tasks, 30)
    if solver in ("polyak", "fixed-step"):
        assert skip and "toy" in reason
        return
    assert not skip, reason
    ref.set_objective(tasks, 30)
    ref.run(None)
    metrics = evaluate(tasks, ref.get_result()["result"], 30)
    assert math.isfinite(metrics["value"])
    assert metrics["value"] < tasks.metrics(tasks.w0, 30)["value"]
