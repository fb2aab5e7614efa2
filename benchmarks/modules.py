"""The torch.func family against the written-out MLP, side by side.

The same network (digits, ``64 -> 100 -> 20 -> 10``, ReLU), the same tasks
and mini-batches, two implementations of the inner gradient: the ``mlp``
family's batched matrix products with the backward pass written out
(:mod:`benchmark_utils.tasks.mlp`) and the generic family's
``vmap(grad_and_value(functional_call(nn.Sequential ...)))``
(:mod:`benchmark_utils.tasks.modules`). Two workloads: T steps of gradient
descent without gradients (an evaluation), and the backprop meta-gradient
of GD's step size through T steps (second order, what meta-training
costs). A ratio above 1: the written-out MLP is that many times faster.
"""

import torch

from common import best_time, figure


def twin_tasks(n_tasks, horizon, dtype=torch.float32, hidden=(100, 20)):
    """The mlp family's tasks and the same tasks as ModuleTasks."""
    from benchmark_utils.image_data import load_digits
    from benchmark_utils.tasks import make_generator, make_mlp_tasks
    from benchmark_utils.tasks.mlp import _unflatten
    from benchmark_utils.tasks.modules import ModuleTasks

    X, y = load_digits()
    mlp = make_mlp_tasks(X, y, n_tasks, 100, 100, hidden, 32, 0.0, horizon,
                         make_generator(0), dtype)
    sizes, layers = mlp.sizes, []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    parts = []
    for W, b in _unflatten(mlp.w0, sizes):
        parts += [W.transpose(1, 2).reshape(n_tasks, -1), b]
    generic = ModuleTasks(
        sizes=(), w0=torch.cat(parts, 1), train=mlp.train, test=mlp.test,
        schedule=mlp.schedule, seed=mlp.seed,
        module=torch.nn.Sequential(*layers).to(dtype))
    return mlp, generic


def _evaluate(tasks, horizon):
    from benchmark_utils.optimizers import GradientDescent
    from benchmark_utils.unroll import unroll

    gd = GradientDescent()
    with torch.no_grad():
        return unroll(tasks, gd, gd.theta_from(step_size=0.1), horizon)


def _meta_gradient(tasks, horizon):
    from benchmark_utils.meta_gradients import get_estimator
    from benchmark_utils.meta_solver import meta_problem
    from benchmark_utils.optimizers import GradientDescent

    gd = GradientDescent()
    problem = meta_problem(tasks, gd, "naive", "train", horizon)
    est = get_estimator("backprop")
    theta = gd.theta_from(step_size=0.1)
    return est.estimate(problem, theta, None)[0].grad


def speed(n_tasks=8, horizon=100, repeats=3):
    """``module_*_over_written_out``: torch.func time / written-out time."""
    mlp, generic = twin_tasks(n_tasks, horizon)
    out = []
    for name, work, what in (
            ("module_unroll_over_written_out", _evaluate,
             f"{horizon} GD steps without gradients"),
            ("module_meta_grad_over_written_out", _meta_gradient,
             f"backprop meta-gradient through {horizon} GD steps")):
        work(generic, 2)                      # torch.func's first call
        t_generic = best_time(lambda: work(generic, horizon), repeats)
        t_mlp = best_time(lambda: work(mlp, horizon), repeats)
        out.append(figure(
            name, t_generic / t_mlp, "ratio", "> 1: keep the written-out MLP",
            f"written-out MLP, {what}: {t_mlp:.3f} s; torch.func: "
            f"{t_generic:.3f} s",
            sizes=dict(n_tasks=n_tasks, horizon=horizon, hidden=[100, 20],
                       dtype="float32")))
    # the two agree (the test suite checks it to 1e-12 in float64)
    g_mlp, g_generic = _meta_gradient(mlp, 5), _meta_gradient(generic, 5)
    out[-1]["meta_gradient_rel_diff_float32"] = float(
        (g_mlp - g_generic).abs() / g_mlp.abs())
    return out
