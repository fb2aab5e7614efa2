"""Figure 3: meta-training throughput of the neural learned optimizer.

One truncated-unroll meta-gradient (``meta_gradients/tbptt.py``, first
segment of the inner runs, second order) on MLP digits tasks, computed two
ways: the benchmark's (all tasks batched, forward and backward passes of
the networks written out as batched matrix products) and the usual way (a
Python loop over tasks, each network's inner gradient by
``torch.autograd.grad(..., create_graph=True)`` through an ordinary
forward pass). Throughput = tasks x inner steps per second; the two
meta-gradients are compared in float64.
"""

import torch
import torch.nn.functional as F

from common import best_time, figure


def make_problem(n_tasks, truncation, dtype, hidden=(100, 20)):
    from benchmark_utils.image_data import load_digits
    from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
    from benchmark_utils.mlp_tasks import make_mlp_tasks
    from benchmark_utils.neural_optimizer import NeuralOptimizer
    from benchmark_utils.tasks import make_generator

    X, y = load_digits()
    tasks = make_mlp_tasks(X, y, n_tasks, 100, 100, hidden, 32, 0.0,
                           truncation, make_generator(0), dtype)
    opt = NeuralOptimizer(tasks.param_segments)
    theta = opt.init_theta(make_generator(1), dtype)
    problem = MetaProblem(tasks, opt, MetaObjective("naive", "train"),
                          truncation)
    return problem, theta


def batched_meta_gradient(problem, theta, truncation):
    from benchmark_utils.meta_gradients.tbptt import TBPTT
    return TBPTT(truncation).estimate(problem, theta).grad


def _forward(params, X, n_layers):
    h = X
    for i in range(n_layers):
        W, b = params[2 * i], params[2 * i + 1]
        h = F.linear(h, W.T, b)
        if i < n_layers - 1:
            h = torch.relu(h)
    return h


def per_task_meta_gradient(problem, theta, truncation):
    """The same meta-gradient, one task at a time, autograd throughout."""
    from benchmark_utils.mlp_tasks import layer_shapes

    tasks, opt = problem.tasks, problem.optimizer
    shapes = []
    for fan_in, fan_out in layer_shapes(tasks.sizes):
        shapes += [(fan_in, fan_out), (fan_out,)]
    sizes = [s[0] * s[1] if len(s) == 2 else s[0] for s in shapes]
    theta_ = theta.detach().clone().requires_grad_(True)
    n_layers = len(shapes) // 2
    total = 0.0
    for j in range(tasks.n_tasks):
        flat = tasks.w0[j:j + 1].clone().requires_grad_(True)
        state = opt.init(flat)
        for k in range(truncation):
            params = [p.view(s) for p, s in
                      zip(torch.split(flat[0], sizes), shapes)]
            idx = tasks.batches[j, k]
            X, y = tasks.train.X[j, idx], tasks.train.y[j, idx]
            loss = F.cross_entropy(_forward(params, X, n_layers), y)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            grad = torch.cat([g.flatten() for g in grads])[None]
            flat, state = opt.update(flat, grad, state, theta_)
            params = [p.view(s) for p, s in
                      zip(torch.split(flat[0], sizes), shapes)]
            full = F.cross_entropy(
                _forward(params, tasks.train.X[j], n_layers),
                tasks.train.y[j])
            total = total + full
    total = total / (truncation * tasks.n_tasks)
    (grad,) = torch.autograd.grad(total, theta_)
    return grad


def speedup(n_tasks=8, truncation=50, repeats=2):
    """``neural_unroll_speedup``: batched over per-task throughput."""
    problem, theta = make_problem(n_tasks, truncation, torch.float32)
    t_batched = best_time(
        lambda: batched_meta_gradient(problem, theta, truncation), repeats)
    t_loop = best_time(
        lambda: per_task_meta_gradient(problem, theta, truncation), repeats)
    steps = n_tasks * truncation
    # agreement, float64, on a smaller unroll of the same construction
    problem64, theta64 = make_problem(2, 5, torch.float64)
    g_batched = batched_meta_gradient(problem64, theta64, 5)
    g_loop = per_task_meta_gradient(problem64, theta64, 5)
    rel = float((g_batched - g_loop).abs().max() / g_loop.abs().max())
    return [figure(
        "neural_unroll_speedup", t_loop / t_batched, "ratio", ">= 3",
        f"per-task Python loop with autograd inner gradients: "
        f"{steps / t_loop:.0f} inner steps/s; batched: "
        f"{steps / t_batched:.0f} inner steps/s",
        sizes=dict(n_tasks=n_tasks, truncation=truncation,
                   hidden=[100, 20], dtype="float32"),
        meta_gradient_rel_diff_float64=rel,
    )]
