"""Figure 3: meta-training throughput of the neural learned optimizer.

One truncated-unroll meta-gradient (``meta_gradients/tbptt.py``, first
segment of the inner runs, second order) on MLP digits tasks, computed two
ways: the benchmark's (all tasks batched, forward and backward passes of
the networks written out as batched matrix products, step-number features
folded into biases) and the usual way (a Python loop over tasks, each
network's inner gradient by ``torch.autograd.grad(..., create_graph=True)``
through an ordinary forward pass, the learned optimizer applied to each
parameter tensor with its features concatenated: an independent
implementation, :class:`UsualLearnedOptimizer`). Throughput = tasks x inner
steps per second; the two meta-gradients are compared in float64.
"""

import torch
import torch.nn.functional as F

from common import best_time, figure


def make_problem(n_tasks, truncation, dtype, hidden=(100, 20)):
    from benchmark_utils.image_data import load_digits
    from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
    from benchmark_utils.optimizers import NeuralOptimizer
    from benchmark_utils.tasks import make_generator, make_mlp_tasks

    X, y = load_digits()
    tasks = make_mlp_tasks(X, y, n_tasks, 100, 100, hidden, 32, 0.0,
                           truncation, make_generator(0), dtype)
    opt = NeuralOptimizer().for_layout(tasks.layout)
    theta = opt.init_theta(make_generator(1), dtype)
    problem = MetaProblem(tasks, opt, MetaObjective("naive", "train"),
                          truncation)
    return problem, theta


def batched_meta_gradient(problem, theta, truncation):
    from benchmark_utils.meta_gradients import get_estimator
    est = get_estimator("tbptt", truncation=truncation)
    return est.estimate(problem, theta, est.init_state(problem, theta))[0].grad


def _forward(params, X, n_layers):
    h = X
    for i in range(n_layers):
        W, b = params[2 * i], params[2 * i + 1]
        h = F.linear(h, W.T, b)
        if i < n_layers - 1:
            h = torch.relu(h)
    return h


class UsualLearnedOptimizer:
    """The same learned optimizer written the usual way: applied to each
    parameter tensor of one network, features concatenated (step-number
    features included) and fed through ``F.linear`` layers, made
    sign-equivariant by evaluating the network at the features and at
    their sign-flipped odd part."""

    def __init__(self, optimizer, theta):
        from benchmark_utils.optimizers import neural as lo
        self.lo, self.p = lo, optimizer.unpack(theta)

    def init(self, params):
        d = len(self.lo.DECAYS)
        return [(p.new_zeros(*p.shape, d), p.new_zeros(*p.shape, d))
                for p in params]

    def step(self, params, grads, states, k):
        lo, p = self.lo, self.p
        beta = params[0].new_tensor(lo.DECAYS)
        tau = params[0].new_tensor(lo.TIMESCALES)
        new_params, new_states = [], []
        for w, g, (m, v) in zip(params, grads, states):
            g = torch.nan_to_num(g, 0.0, 0.0, 0.0).clamp(-1e15, 1e15)
            m = beta * m + (1 - beta) * g.unsqueeze(-1)
            v = beta * v + (1 - beta) * g.square().unsqueeze(-1)
            r = torch.rsqrt(v + 1e-8)
            raw = torch.cat([g.unsqueeze(-1), w.unsqueeze(-1), m, m * r, v,
                             r], dim=-1).flatten(0, -2)
            feats = (raw / (raw.abs().mean(0) + 1e-30)).clamp(-10, 10)
            time = torch.tanh(k / tau).expand(len(feats), -1)
            x = torch.cat([feats, time], dim=-1)
            # sign-equivariant: d odd, s even in the odd features
            flip = x.new_ones(x.shape[-1])
            flip[:lo.N_ODD] = -1.0
            outs = [0.1 * F.linear(torch.relu(F.linear(z, p["W1"].T,
                                                       p["b1"])),
                                   p["W2"].T, p["b2"]) + z @ p["skip"]
                    for z in (x, x * flip)]
            d = 0.5 * (outs[0][:, 0] - outs[1][:, 0])
            s = 0.5 * (outs[0][:, 1] + outs[1][:, 1])
            step = torch.exp(p["log_lr"]) * d * torch.exp(
                10 * torch.tanh(s / 10))
            new_params.append(w - step.view(w.shape))
            new_states.append((m, v))
        return new_params, new_states


def per_task_meta_gradient(problem, theta, truncation):
    """The same meta-gradient, one task at a time, autograd throughout."""
    from benchmark_utils.tasks.mlp import layer_shapes

    tasks = problem.tasks
    shapes = []
    for fan_in, fan_out in layer_shapes(tasks.sizes):
        shapes += [(fan_in, fan_out), (fan_out,)]
    sizes = [s[0] * s[1] if len(s) == 2 else s[0] for s in shapes]
    theta_ = theta.detach().clone().requires_grad_(True)
    opt = UsualLearnedOptimizer(problem.optimizer, theta_)
    n_layers = len(shapes) // 2
    total = 0.0
    for j in range(tasks.n_tasks):
        params = [p.view(s).clone().requires_grad_(True) for p, s in
                  zip(torch.split(tasks.w0[j], sizes), shapes)]
        states = opt.init(params)
        for k in range(truncation):
            idx = tasks.schedule.table[j, k]
            X, y = tasks.train.X[j, idx], tasks.train.y[j, idx]
            loss = F.cross_entropy(_forward(params, X, n_layers), y)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            params, states = opt.step(params, grads, states, float(k))
            total = total + F.cross_entropy(
                _forward(params, tasks.train.X[j], n_layers),
                tasks.train.y[j])
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
        f"per-task Python loop, autograd inner gradients, learned "
        f"optimizer per parameter tensor: "
        f"{steps / t_loop:.0f} inner steps/s; batched: "
        f"{steps / t_batched:.0f} inner steps/s",
        sizes=dict(n_tasks=n_tasks, truncation=truncation,
                   hidden=[100, 20], dtype="float32"),
        meta_gradient_rel_diff_float64=rel,
    )]
