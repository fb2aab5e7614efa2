"""What the held-out suites and the score cost, per run of a solver.

On the ``mlp`` family at its default sizes (4 meta-test tasks per suite,
T = 100, hidden (100, 20), float32) with every suite (``mnist`` only where
its files are present): the final report (every suite run once, no
score) of gradient descent and of the untrained neural optimizer, against
one in-distribution evaluation (what benchopt does at each of its
evaluation points); and the speedup score's yardstick (Adam's envelope:
11 learning rates x 10 T steps, computed once per suite and cached).
"""

import time

import torch

from common import figure


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def data(horizon, hidden):
    """The mlp dataset's data with every suite, built by benchopt."""
    import warnings

    from benchopt.benchmark import Benchmark
    from benchopt.utils.run_context import RunContext

    from common import ROOT

    (cls,) = [c for c in Benchmark(ROOT).get_datasets() if c.name == "mlp"]
    dataset = cls.get_instance(horizon=horizon, hidden=hidden, suites="all")
    RunContext().set_run_context("objective", dataset, "benchmarks",
                                 repetition=0, base_seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dataset.get_data()


def cost(horizon=100, hidden=(100, 20)):
    """``suites_report_over_evaluation`` (GD and the neural optimizer) and
    ``yardstick_seconds``."""
    from benchmark_utils.evaluation import evaluate
    from benchmark_utils.held_out import final_report
    from benchmark_utils.meta_train import SolverResult
    from benchmark_utils.optimizers import GradientDescent, NeuralOptimizer
    from benchmark_utils.scoring import Yardsticks
    from benchmark_utils.tasks import make_generator

    d = data(horizon, hidden)
    suites = {k: s for k, s in d["suites"].items() if s.tasks is not None}
    gd, neural = GradientDescent(), NeuralOptimizer()
    out, t_gd = [], None
    for label, result in (
            ("gd", SolverResult(gd, gd.theta_from(step_size=0.1))),
            ("neural", SolverResult(neural, neural.init_theta(
                make_generator(0), torch.float32)))):
        t_eval, _ = _timed(lambda: evaluate(d["test_tasks"], result,
                                            horizon))
        t_gd = t_gd or t_eval
        per_suite = {name: round(_timed(lambda: final_report(
            d["test_tasks"], horizon, {name: s}, result))[0] - t_eval, 3)
            for name, s in suites.items()}
        t_all, _ = _timed(lambda: final_report(d["test_tasks"], horizon,
                                               suites, result))
        out.append(figure(
            f"suites_report_over_evaluation_{label}", t_all / t_eval,
            "ratio", "once per run: < the evaluations of a run",
            f"one in-distribution evaluation: {t_eval:.3f} s; every suite "
            f"({', '.join(suites)}): {t_all:.2f} s",
            seconds_per_suite=per_suite,
            sizes=dict(horizon=horizon, hidden=list(hidden), n_tasks=4)))
    yardsticks = Yardsticks(folder=None)
    t_yard, _ = _timed(lambda: yardsticks.get(d["test_tasks"], horizon))
    out.append(figure(
        "yardstick_seconds", t_yard, "s", "once per suite, then cached",
        f"one GD evaluation: {t_gd:.3f} s (the envelope is 11 learning "
        f"rates x 10 T Adam steps; the longer suite's is 10 x more)",
        sizes=dict(horizon=horizon, hidden=list(hidden), n_tasks=4)))
    return out
