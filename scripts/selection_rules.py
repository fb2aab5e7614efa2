"""Does the selection hand back a theta that beats its start on the
meta-test tasks, and would a stricter rule do better?

    python scripts/selection_rules.py [--datasets mlp least_squares]
        [--solvers NAME[:key=value;...] ...] [--reps 0 1 2 3 4]

Runs each learned-optimizer solver with its defaults (seeded as
repetition ``r`` of ``benchopt run``, base seed 0), keeps every theta the
selection scored on its meta-validation tasks
(:attr:`~benchmark_utils.meta_train.MetaTrainer.scored`), evaluates each
on the meta-test tasks, then replays the selection with other thresholds
on the same scores: the start is kept unless a theta's paired gain over
it exceeds ``k`` standard errors (:func:`~benchmark_utils.meta_train.
improves`), then the lowest mean of those that do. ``k = 1`` is the
solvers' rule; the one-sided t-test at 90% and 95% (``k`` the Student
quantile with n - 1 degrees of freedom, n the (run, task) pairs) and
``k = 2`` are stricter. Prints, per run, each scored theta's z-score on
meta-validation and its meta-test change over the start, and per
(dataset, solver, rule) the mean meta-test change of the handed-back
theta over its start, and in how many runs it ends above the start or
keeps it. Choosing a rule by these meta-test figures would be choosing on
the test set: they judge the rule, they do not tune it.
"""

import argparse
from dataclasses import replace
from pathlib import Path
import sys

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scipy import stats  # noqa: E402

from benchmark_utils.meta_train import paired_z, replaces  # noqa: E402
from studies.meta_training import setup  # noqa: E402

SOLVERS = ["neural-optimizer:split=validation", "adafac-optimizer",
           "lstm-optimizer", "learnable-adam", "learnable-sgdm"]


def rules(n):
    """{rule name: k} for ``n`` (run, task) pairs."""
    return {"1 SE": 1.0, "t 90%": float(stats.t.ppf(0.90, n - 1)),
            "t 95%": float(stats.t.ppf(0.95, n - 1)), "2 SE": 2.0}


def replay(scored, k):
    """The index in ``scored`` that the selection
    (:func:`~benchmark_utils.meta_train.replaces`) with threshold ``k``
    hands back."""
    start, best = scored[0][2], 0
    for i, (_, _, scores) in enumerate(scored[1:], 1):
        if replaces(scores, start, float(scored[best][2].mean()), k):
            best = i
    return best


def one_run(bench, dataset, spec, rep):
    """``(rows, scored)``: ``[(meta_step, z, meta-test loss)]`` of every
    scored theta (``z``: its paired gain over the start on
    meta-validation, in standard errors) and the trainer's
    :attr:`~benchmark_utils.meta_train.MetaTrainer.scored`."""
    name, _, kv = spec.partition(":")
    params = dict(p.split("=", 1) for p in kv.split(";") if p)
    objective, solver, _ = setup(bench, {}, {**params, "device": "cpu"},
                                 rep, name, dataset)
    solver.run(lambda: True)
    trainer = solver.trainer
    base = trainer.result()
    rows = []
    for step, theta, scores in trainer.scored:
        test = objective.evaluate_result(replace(base, theta=theta))["value"]
        rows.append((step, paired_z(scores, trainer.scored[0][2]), test))
    return rows, trainer.scored


def main(argv=None):
    from benchopt.benchmark import Benchmark
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["mlp", "least_squares"])
    parser.add_argument("--solvers", nargs="+", default=SOLVERS)
    parser.add_argument("--reps", type=int, nargs="+",
                        default=[0, 1, 2, 3, 4])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    bench = Benchmark(ROOT)
    for dataset in args.datasets:
        for spec in args.solvers:
            changes = {}
            for rep in args.reps:
                rows, scored = one_run(bench, dataset, spec, rep)
                start = rows[0][2]
                print(f"{dataset} {spec} rep {rep}: start {start:.4f} "
                      + " ".join(f"[{s}: z {z:+.1f}, "
                                 f"{100 * (t - start) / start:+.1f}%]"
                                 for s, z, t in rows[1:]), flush=True)
                for rule, k in rules(scored[0][2].numel()).items():
                    i = replay(scored, k)
                    changes.setdefault(rule, []).append(rows[i][2] - start)
            for rule, d in changes.items():
                print(f"  {dataset} {spec} {rule}: mean change "
                      f"{sum(d) / len(d):+.4f}, above the start in "
                      f"{sum(x > 0 for x in d)}/{len(d)}, start kept in "
                      f"{sum(x == 0 for x in d)}/{len(d)}", flush=True)


if __name__ == "__main__":
    main()
