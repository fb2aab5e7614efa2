"""Figure 6: learned optimizers at hardware speed, against the libraries a
PyTorch user would pick, on one device.

- Meta-gradient (the neural optimizer's truncated meta-gradient on digits
  MLP tasks, ``tbptt``, float32): the benchmark's batched path compiled
  (``optimizers/compiled.py``) against the same meta-gradient written the
  way a user of ``higher`` (``higher.monkeypatch`` of an ``nn.Module``,
  fast weights) or ``torchopt`` (``torchopt.MetaOptimizer`` with the
  learned optimizer as a ``GradientTransformation``) would write it, one
  task at a time, and against the benchmark's eager path. The peers'
  meta-gradients are checked against the benchmark's (float64).
- Update cost of every learned optimizer (neural MLP, LSTM, Adafac), eager
  and compiled, against ``torch.optim.Adam(foreach=True)`` on the same
  parameters (no graph, as in the meta-test evaluation).
- A whole digits-MLP training step (mini-batch forward, backward, update)
  with each learned optimizer, against Adam's step and against the bound
  set by its arithmetic and memory traffic: ``max(flops / peak,
  bytes / bandwidth)``, peak and bandwidth measured in the same run
  (a float32 matrix product, a large copy). Flops per coordinate of a
  per-coordinate network: 2 per weight of its matrices (for the neural
  optimizer 2 (F H + 2 H + 2 F), the issue's 2 (31*32 + 32*2 + 31*2) at
  the paper's sizes); traffic: each state entry read and written, the
  parameter read and written, the gradient read; plus the network's
  forward and backward on the batch (6 flops per weight and example).

Compile time is reported apart (first call less a steady-state call).
The timings compared in a figure are taken in turn, round by round, and
each is the minimum over its rounds.
Every clock read is preceded by a device synchronisation (CUDA runs
asynchronously). A peer library that does not import or run with this
torch gives its error text in place of the figure.
"""

import math
import time

import torch
import torch.nn.functional as F

from common import figure


def synchronize(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def best_time(fn, repeats, device, calls=1):
    """Minimum over ``repeats`` timings of the wall time per call of
    ``fn()``, each timing ``calls`` calls in a row between two device
    synchronisations (on CUDA, several calls per timing keep the
    synchronisation's own microseconds out of a short kernel's time)."""
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        synchronize(device)
        times.append((time.perf_counter() - start) / calls)
    return min(times)


def interleaved(fns, repeats, device, calls=1):
    """{name: minimum wall time per call} of the callables ``fns`` ({name:
    fn}), called in turn ``repeats`` rounds: side by side, so that a change
    of the machine's load hits all of them alike."""
    times = {name: math.inf for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name] = min(times[name],
                              best_time(fn, 1, device, calls))
    return times


def _learned():
    from benchmark_utils.optimizers import NeuralOptimizer
    from benchmark_utils.optimizers.adafac import AdafacOptimizer
    from benchmark_utils.optimizers.lstm import LSTMOptimizer
    return {"neural": NeuralOptimizer, "lstm": LSTMOptimizer,
            "adafac": AdafacOptimizer}


def make_tasks(n_tasks, horizon, dtype, device, hidden=(100, 20)):
    from benchmark_utils.image_data import load_digits
    from benchmark_utils.tasks import make_generator, make_mlp_tasks
    X, y = load_digits()
    return make_mlp_tasks(X, y, n_tasks, 100, 100, hidden, 32, 0.0,
                          horizon, make_generator(0), dtype).to(device)


# -- the peers: a per-task nn.Module loop through higher or torchopt -------

def _module(tasks, j):
    """Task ``j``'s network as an ``nn.Sequential`` of Linear and ReLU
    layers, initialised at the task's ``w0``."""
    from benchmark_utils.tasks.mlp import layer_shapes
    layers, start = [], 0
    shapes = layer_shapes(tasks.sizes)
    for i, (fan_in, fan_out) in enumerate(shapes):
        lin = torch.nn.Linear(fan_in, fan_out, dtype=tasks.dtype,
                              device=tasks.device)
        W = tasks.w0[j, start:start + fan_in * fan_out]
        start += fan_in * fan_out
        b = tasks.w0[j, start:start + fan_out]
        start += fan_out
        with torch.no_grad():
            lin.weight.copy_(W.view(fan_in, fan_out).T)
            lin.bias.copy_(b)
        layers.append(lin)
        if i < len(shapes) - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _usual(problem, theta):
    from neural import UsualLearnedOptimizer
    return UsualLearnedOptimizer(problem.optimizer, theta)


def higher_meta_gradient(problem, theta, truncation):
    """The meta-gradient as a ``higher`` user writes it: fast weights of a
    monkeypatched module, inner gradients with ``create_graph=True``."""
    import higher
    tasks = problem.tasks
    theta_ = theta.detach().clone().requires_grad_(True)
    opt = _usual(problem, theta_)
    total = 0.0
    for j in range(tasks.n_tasks):
        net = _module(tasks, j)
        fnet = higher.monkeypatch(net, copy_initial_weights=True)
        params = [p.detach().clone().requires_grad_(True)
                  for p in net.parameters()]
        states = opt.init(params)
        for k in range(truncation):
            idx = tasks.schedule.table[j, k]
            X, y = tasks.train.X[j, idx], tasks.train.y[j, idx]
            loss = F.cross_entropy(fnet(X, params=params), y)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            params, states = opt.step(params, grads, states, float(k))
            total = total + F.cross_entropy(
                fnet(tasks.train.X[j], params=params), tasks.train.y[j])
    total = total / (truncation * tasks.n_tasks)
    (grad,) = torch.autograd.grad(total, theta_)
    return grad


def torchopt_meta_gradient(problem, theta, truncation):
    """The meta-gradient as a ``torchopt`` user writes it: the learned
    optimizer as a ``GradientTransformation`` in a ``MetaOptimizer`` that
    updates the module differentiably."""
    import torchopt
    tasks = problem.tasks
    theta_ = theta.detach().clone().requires_grad_(True)
    opt = _usual(problem, theta_)

    def init(params):
        return (0, opt.init(list(params)))

    def update(grads, state, params=None, inplace=True):
        k, states = state
        new, states = opt.step(list(params), list(grads), states, float(k))
        return (tuple(n - p for n, p in zip(new, params)),
                (k + 1, states))

    transform = torchopt.base.GradientTransformation(init, update)
    total = 0.0
    for j in range(tasks.n_tasks):
        net = _module(tasks, j)
        meta_opt = torchopt.MetaOptimizer(net, transform)
        for k in range(truncation):
            idx = tasks.schedule.table[j, k]
            X, y = tasks.train.X[j, idx], tasks.train.y[j, idx]
            meta_opt.step(F.cross_entropy(net(X), y))
            total = total + F.cross_entropy(net(tasks.train.X[j]),
                                            tasks.train.y[j])
    total = total / (truncation * tasks.n_tasks)
    (grad,) = torch.autograd.grad(total, theta_)
    return grad


PEERS = {"higher": higher_meta_gradient,
         "torchopt": torchopt_meta_gradient}


def _problem(tasks, optimizer, truncation):
    from benchmark_utils.meta_objectives import MetaObjective, MetaProblem
    return MetaProblem(tasks, optimizer.for_layout(tasks.layout),
                       MetaObjective("naive", "train"), truncation)


def ours_meta_gradient(problem, theta, truncation):
    from benchmark_utils.meta_gradients import get_estimator
    est = get_estimator("tbptt", truncation=truncation)
    return est.estimate(problem, theta, est.init_state(problem, theta))[0].grad


def _error(err):
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[-1] if text else ''}"[:400]


def meta_gradient(n_tasks=4, truncation=20, repeats=2, device="cpu"):
    """``meta_grad_over_<peer>``, ``meta_grad_compiled_over_eager`` and
    ``meta_grad_compile_seconds`` for the neural optimizer."""
    from benchmark_utils.optimizers import NeuralOptimizer
    from benchmark_utils.optimizers.compiled import compiled
    from benchmark_utils.tasks import make_generator
    tasks = make_tasks(n_tasks, truncation, torch.float32, device)
    eager = _problem(tasks, NeuralOptimizer(), truncation)
    fast = _problem(tasks, compiled(NeuralOptimizer()), truncation)
    theta = eager.optimizer.init_theta(make_generator(1), torch.float32)
    theta = theta.to(device)
    fns = {"fast": lambda: ours_meta_gradient(fast, theta, truncation),
           "eager": lambda: ours_meta_gradient(eager, theta, truncation)}
    first = best_time(fns["fast"], 1, device)          # compiles
    errors = {}
    for name, peer in PEERS.items():
        try:
            peer(eager, theta, 1)                      # imports, runs
        except Exception as err:   # noqa: BLE001 - recorded, not raised
            errors[name] = _error(err)
            continue
        fns[name] = (lambda peer: lambda: peer(eager, theta, truncation))(
            peer)
    times = interleaved(fns, repeats, device)
    t_fast, t_eager = times["fast"], times["eager"]
    steps = n_tasks * truncation
    sizes = dict(n_tasks=n_tasks, truncation=truncation, hidden=[100, 20],
                 dtype="float32", device=str(device))
    figs = [
        figure("meta_grad_compiled_over_eager", t_eager / t_fast, "ratio",
               ">= 2", f"the benchmark's eager path: "
               f"{steps / t_eager:.0f} inner steps/s; compiled: "
               f"{steps / t_fast:.0f} inner steps/s",
               sizes=sizes, fallback=fast.optimizer.failure),
        figure("meta_grad_compile_seconds", max(first - t_fast, 0.0), "s",
               "reported apart; in a solver's untimed warm_up",
               "first compiled meta-gradient less a steady-state one",
               sizes=sizes),
    ]
    # agreement of each peer with the benchmark, float64, small unroll
    tasks64 = make_tasks(2, 3, torch.float64, device)
    problem64 = _problem(tasks64, NeuralOptimizer(), 3)
    theta64 = problem64.optimizer.init_theta(make_generator(1),
                                             torch.float64).to(device)
    reference = ours_meta_gradient(problem64, theta64, 3)
    for name, peer in PEERS.items():
        if name in errors:
            figs.append(figure(f"meta_grad_over_{name}", None, "ratio",
                               ">= 3", f"{name} failed",
                               error=errors[name], sizes=sizes))
            continue
        t_peer = times[name]
        g = peer(problem64, theta64, 3)
        rel = float((g - reference).abs().max() / reference.abs().max())
        figs.append(figure(
            f"meta_grad_over_{name}", t_peer / t_fast, "ratio", ">= 3",
            f"{name}, per-task nn.Module loop: {steps / t_peer:.0f} inner "
            f"steps/s; the benchmark compiled: {steps / t_fast:.0f}, "
            f"eager: {steps / t_eager:.0f} (eager over {name}: "
            f"{t_peer / t_eager:.2f})", sizes=sizes,
            meta_gradient_rel_diff_float64=rel))
    return figs


# -- update cost and the whole training step --------------------------------

def measure_machine(device, dtype=torch.float32):
    """(peak flop/s of a large matrix product, bandwidth in byte/s of a
    large copy), measured here."""
    n = 2048
    a = torch.randn(n, n, dtype=dtype, device=device)
    b = torch.randn(n, n, dtype=dtype, device=device)
    t = best_time(lambda: a @ b, 5, device)
    x = torch.empty(2 ** 26, dtype=dtype, device=device)       # 256 MB
    y = torch.empty_like(x)
    t_copy = best_time(lambda: y.copy_(x), 5, device)
    return 2 * n ** 3 / t, 2 * x.numel() * x.element_size() / t_copy


def _state_entries(state):
    """Number of state tensor entries (all tensors of the state)."""
    if isinstance(state, torch.Tensor):
        return state.numel()
    if isinstance(state, (tuple, list)):
        return sum(_state_entries(s) for s in state)
    return 0


def bound_seconds(tasks, optimizer, theta, state, peak, bandwidth):
    """The arithmetic and memory bound of one training step (seconds) and
    its parts."""
    B, D = tasks.w0.shape
    parts = optimizer.theta_layout.parts if hasattr(
        optimizer, "theta_layout") else None
    if parts is None:
        shapes = [v.shape for v in optimizer.unpack(theta).values()]
    else:
        shapes = [shape for _, shape in parts]
    per_coord = 2 * sum(math.prod(s) for s in shapes if len(s) == 2)
    batch = tasks.schedule.table.shape[-1]
    weights = D                                   # biases included
    flops = B * (D * per_coord + 6 * weights * batch)
    item = tasks.w0.element_size()
    entries = _state_entries(state) / (B * D)
    traffic = item * B * D * (2 * entries + 3 + 3)   # + weights, fwd/bwd
    seconds = max(flops / peak, traffic / bandwidth)
    return seconds, dict(flops_per_coordinate=per_coord, flops=flops,
                         bytes=traffic, bound_ms=1e3 * seconds)


def _adam(w, grad):
    param = torch.nn.Parameter(w.detach().clone())
    param.grad = grad.detach().clone()
    return param, torch.optim.Adam([param], lr=1e-3, foreach=True)


def update_and_step(n_tasks=8, repeats=5, device="cpu", calls=1,
                    graphs=False, suffix=""):
    """Per learned optimizer: ``update_over_adam_<name>`` (eager and
    compiled), ``update_compiled_over_eager_<name>``,
    ``update_compile_seconds_<name>``, ``train_step_over_bound_<name>``,
    ``train_step_over_adam_<name>``, each name ending in ``suffix``.
    ``graphs`` (CUDA): the compiled update also replayed as a CUDA graph
    (``torch.compile(mode="reduce-overhead")``), which removes the
    per-kernel launch cost, ``update_graphs_over_adam_<name>``; the
    training step is the fastest of its variants."""
    from benchmark_utils.optimizers.compiled import compiled
    from benchmark_utils.tasks import make_generator
    tasks = make_tasks(n_tasks, 10, torch.float32, device)
    w = tasks.w0
    grad = tasks.inner_grad(w, 0)
    param, adam = _adam(w, grad)

    def adam_step():
        param.grad = tasks.inner_grad(param.detach(), 0)
        adam.step()

    peak, bandwidth = measure_machine(device)
    sizes = dict(n_tasks=n_tasks, hidden=[100, 20], batch=32,
                 dtype="float32", device=str(device),
                 parameters=int(w.numel()), calls_per_timing=calls)
    figs = []
    for name, cls in _learned().items():
        eager = cls().for_layout(tasks.layout)
        variants = {"eager": eager,
                    "fast": compiled(cls()).for_layout(tasks.layout)}
        if graphs:
            variants["graphs"] = compiled(
                cls(), mode="reduce-overhead").for_layout(tasks.layout)
        theta = eager.init_theta(make_generator(1), torch.float32)
        theta = theta.to(device)
        state = eager.init(w)
        with torch.no_grad():
            def update(opt):
                return lambda: opt.update(w, grad, state, theta)

            def step(opt):
                return lambda: opt.update(w, tasks.inner_grad(w, 0), state,
                                          theta)

            first = best_time(update(variants["fast"]), 1, device)  # compiles
            if graphs:      # compiles, then records the graph
                best_time(update(variants["graphs"]), 3, device)
            fns = dict(adam=adam.step, adam_step=adam_step)
            for v, opt in variants.items():
                fns[v] = update(opt)
                fns[f"step_{v}"] = step(opt)
            t = interleaved(fns, repeats, device, calls)
        t_adam, t_adam_step = t["adam"], t["adam_step"]
        t_eager, t_fast = t["eager"], t["fast"]
        steps = {v: t[f"step_{v}"] for v in variants}
        t_step = min(steps.values())
        bound, parts = bound_seconds(tasks, eager, theta, state, peak,
                                     bandwidth)
        step_text = ", ".join(f"{'compiled' if v == 'fast' else v} "
                              f"{1e3 * s:.3f}" for v, s in steps.items())
        figs += [
            figure(f"update_over_adam_{name}{suffix}", t_fast / t_adam,
                   "ratio",
                   "reported (PyLO: naive learned steps 10-50x Adam's)",
                   f"torch.optim.Adam(foreach=True) on the same "
                   f"{w.numel()} parameters: {1e3 * t_adam:.3f} ms; "
                   f"{name} compiled {1e3 * t_fast:.3f} ms, eager "
                   f"{1e3 * t_eager:.3f} ms", sizes=sizes,
                   eager_over_adam=t_eager / t_adam,
                   fallback=variants["fast"].failure),
            figure(f"update_compiled_over_eager_{name}{suffix}",
                   t_eager / t_fast, "ratio", "> 1",
                   f"{name}'s eager update ({1e3 * t_eager:.3f} ms)",
                   sizes=sizes),
            figure(f"update_compile_seconds_{name}{suffix}",
                   max(first - t_fast, 0.0), "s", "reported apart",
                   "first compiled update less a steady-state one",
                   sizes=sizes),
        ]
        if graphs:
            t_graphs = t["graphs"]
            figs.append(figure(
                f"update_graphs_over_adam_{name}{suffix}", t_graphs / t_adam,
                "ratio", "reported (PyLO: naive learned steps 10-50x "
                "Adam's)", f"the compiled update replayed as a CUDA graph: "
                f"{1e3 * t_graphs:.3f} ms (without the graph "
                f"{1e3 * t_fast:.3f} ms); Adam {1e3 * t_adam:.3f} ms",
                sizes=sizes, graphs_over_compiled=t_graphs / t_fast,
                fallback=variants["graphs"].failure))
        figs += [
            figure(f"train_step_over_bound_{name}{suffix}", t_step / bound,
                   "ratio", "<= 2", f"the step's arithmetic and memory bound "
                   f"{1e3 * bound:.3f} ms (peak {peak / 1e9:.0f} GFLOP/s, "
                   f"{bandwidth / 1e9:.1f} GB/s measured here); the step: "
                   f"{1e3 * t_step:.3f} ms ({step_text})", sizes=sizes,
                   **parts),
            figure(f"train_step_over_adam_{name}{suffix}",
                   t_step / t_adam_step, "ratio", "reported (PyLO: 10-50x)",
                   f"Adam's whole step (forward, backward, foreach "
                   f"update): {1e3 * t_adam_step:.3f} ms", sizes=sizes),
        ]
    return figs


def all_figures(sizes, device):
    """Every figure of this module at ``sizes`` (``meta`` and ``update``
    keyword dicts, and ``update_large``, the update block again at a size
    that fills a GPU) on ``device``, block by block as they are measured."""
    yield from meta_gradient(device=device, **sizes["meta"])
    yield from update_and_step(device=device, **sizes["update"])
    if "update_large" in sizes:
        yield from update_and_step(device=device, suffix="_large",
                                   **sizes["update_large"])


FULL = dict(meta=dict(n_tasks=4, truncation=20, repeats=2),
            update=dict(n_tasks=8, repeats=5))
QUICK = dict(meta=dict(n_tasks=2, truncation=5, repeats=1),
             update=dict(n_tasks=2, repeats=2))
#: ``benchmarks/gpu.py``: FULL's figures (comparable with the CPU's), 20
#: calls per timing (a short kernel's time is not the synchronisation's),
#: the CUDA-graph replay of the update, and the update block again on 512
#: tasks (4.5 million parameters), where the step's bound is no longer a
#: few microseconds that kernel launches alone exceed
CUDA = dict(meta=dict(n_tasks=4, truncation=20, repeats=3),
            update=dict(n_tasks=8, repeats=5, calls=20, graphs=True),
            update_large=dict(n_tasks=512, repeats=5, calls=5, graphs=True))
CUDA_QUICK = dict(QUICK, update=dict(QUICK["update"], calls=5, graphs=True))


if __name__ == "__main__":          # pragma: no cover
    from common import emit
    for fig in all_figures(QUICK, "cpu"):
        emit(fig)
