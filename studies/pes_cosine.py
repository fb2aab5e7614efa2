"""How well online PES estimates the meta-gradient, as its pairs grow.

On tasks where the exact meta-gradient is computable by backprop through
the whole unroll (a quadratic of the paper's Section 3, or least squares),
for a learnable optimizer at its initial ``theta``: online PES
(:mod:`benchmark_utils.meta_gradients.online_pes`) run over one whole
inner run (``T / K`` meta-steps of truncation ``K`` at a fixed theta, its
estimates summed, as the meta-optimizer sees them over an episode) is
unbiased for the gradient of ``G(theta) = sum over truncations of the
truncation's mean loss``; this study computes that gradient exactly
(backprop through the whole run) and reports, over ``--draws``
independent estimates, the mean cosine of the PES estimate with it, the
ratio of their norms, and the cosine of the exact gradient of ``G`` with
that of the final loss ``l(w_T)`` (what the meta-test metrics report, and
what truncated backprop with ``meta_loss="final"`` follows). Each row
says what one PES estimate costs in inner gradients.

For an unbiased estimate with P antithetic pairs in n dimensions, the
expected cosine is about ``sqrt(P / (P + n))``: near 1 for the 2 to 4
hyper-parameters of learnable SGD-momentum or Adam, small for a network's
weights (the neural optimizer has about 1,150).

    python -m studies.pes_cosine [--quick] [--out DIR]
"""

import argparse
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def problem_for(solver_name, dataset_name, dataset_params, solver_params):
    """The meta-problem and initial theta of ``solver_name`` on the family,
    seeded as repetition 0 of ``benchopt run``."""
    from benchopt.benchmark import Benchmark
    from benchopt.utils.run_context import RunContext

    bench = Benchmark(ROOT)
    (dcls,) = [c for c in bench.get_datasets() if c.name == dataset_name]
    dataset = dcls.get_instance(**dataset_params)
    objective = bench.get_benchmark_objective().get_instance()
    RunContext().set_run_context(objective, dataset, "study", repetition=0,
                                 base_seed=0)
    objective.set_data(**dataset.get_data())
    (scls,) = [c for c in bench.get_solvers() if c.name == solver_name]
    solver = scls.get_instance(**{"device": "cpu", "select_every": None,
                                  **solver_params})
    RunContext().set_run_context(objective, dataset, solver, repetition=0,
                                 base_seed=0)
    solver.set_objective(**objective.get_objective())
    return solver.problem, solver.theta0


def exact_gradients(problem, theta, truncation):
    """``(grad G, grad l(w_T))`` at ``theta`` by backprop through the whole
    first run of the meta-train tasks, ``G`` the sum over truncations of
    each truncation's mean loss (online PES's target over one run)."""
    from benchmark_utils.meta_gradients.common import segment_loss
    from benchmark_utils.unroll import run_steps
    loss = segment_loss(problem.objective)
    optimizer = problem.optimizer.for_layout(problem.tasks.layout)
    tasks = problem.tasks.restart(0)
    th = theta.detach().clone().requires_grad_(True)
    seen = []
    run_steps(tasks, optimizer, th, tasks.w0, optimizer.init(tasks.w0), 0,
              problem.horizon, lambda k, w: seen.append(loss(tasks, w)))
    steps = torch.stack(seen)                    # (T, B)
    G = sum(chunk.mean() for chunk in torch.split(steps, truncation))
    (g_sum,) = torch.autograd.grad(G, th, retain_graph=True)
    (g_final,) = torch.autograd.grad(steps[-1].mean(), th)
    return g_sum, g_final


def pes_episode(problem, theta, truncation, pairs, sigma, seed):
    """The sum of online PES's estimates over one inner run at a fixed
    ``theta``, and its cost in inner gradients."""
    from benchmark_utils.meta_gradients import get_estimator
    est = get_estimator("online-pes", truncation=truncation, pairs=pairs,
                        sigma=sigma, seed=seed)
    state = est.init_state(problem, theta)
    total, cost = torch.zeros_like(theta, dtype=torch.float64), 0
    for _ in range(-(-problem.horizon // truncation)):
        mg, state = est.estimate(problem, theta, state)
        total, cost = total + mg.grad.double(), cost + \
            mg.inner_gradient_evaluations
    return total, cost


def _cos(a, b):
    return float(a @ b / (a.norm() * b.norm() + 1e-300))


def rows(solver_name, dataset_name, dataset_params, truncation, pairs_list,
         draws, sigma=0.01, log=print):
    problem, theta = problem_for(solver_name, dataset_name, dataset_params,
                                 {"split": "train"})
    g_sum, g_final = exact_gradients(problem, theta, truncation)
    out = []
    for pairs in pairs_list:
        cosines, ratios = [], []
        for d in range(draws):
            est, cost = pes_episode(problem, theta, truncation, pairs, sigma,
                                    seed=1000 * pairs + d)
            cosines.append(_cos(est, g_sum.double()))
            ratios.append(float(est.norm() / g_sum.double().norm()))
        row = dict(solver=solver_name, dataset=dataset_name,
                   dims=theta.numel(), horizon=problem.horizon,
                   truncation=truncation, pairs=pairs, sigma=sigma,
                   cos_pes_exact=sum(cosines) / draws,
                   cos_min=min(cosines), norm_ratio=sum(ratios) / draws,
                   cos_average_final=_cos(g_sum, g_final),
                   cost_per_estimate=cost)
        log(", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in row.items()))
        out.append(row)
    return out


SETTINGS = [
    # (solver, dataset, dataset parameters, truncation)
    ("learnable-sgdm", "quadratic", dict(spectrum="wishart", horizon=80), 10),
    ("learnable-adam", "quadratic", dict(spectrum="wishart", horizon=80), 10),
    ("neural-optimizer", "quadratic", dict(spectrum="wishart", horizon=80),
     10),
    ("neural-optimizer", "least_squares", {}, 10),
]


def run(out, quick=False, log=print):
    import pandas as pd
    torch.set_num_threads(min(2, torch.get_num_threads()))
    pairs_list, draws = ((1, 4), 2) if quick else ((1, 4, 16, 64), 5)
    settings = SETTINGS[1:3] if quick else SETTINGS
    table = []
    for solver_name, dataset_name, params, truncation in settings:
        if quick:
            params = {**params, "horizon": 20}
        table += rows(solver_name, dataset_name, params, truncation,
                      pairs_list, draws, log=log)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(table)
    df.to_csv(out / "pes_cosine.csv", index=False)
    return df


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "outputs"
                                             / "pes_cosine"))
    args = parser.parse_args(argv)
    run(args.out, args.quick)


if __name__ == "__main__":
    main()
