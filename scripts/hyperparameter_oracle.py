"""How close to tuned Adam can a hand-designed optimizer's family get at all?

    python scripts/hyperparameter_oracle.py [--reps 0 1 2] [--dataset k=v ...]

For each repetition of the ``mlp`` family (its defaults, seeded as
``benchopt run`` seeds that repetition), the meta-test loss of

- tuned Adam: the ``adam`` solver's own choice (its step from an 11-point
  grid, on half of the meta-train tasks' samples), the yardstick of the
  result tables;
- the *oracle* SGD with heavy-ball momentum: the lowest meta-test loss over
  a grid of fixed ``(eta, beta)`` (22 step sizes from 1e-3 to 3 times
  momenta 0.01, 0.5, 0.8, 0.9, 0.95);
- the oracle Adam: the lowest over 16 step sizes from 3e-4 to 0.1, default
  betas.

The oracle chooses on the meta-test tasks themselves, so it is no solver:
it bounds what any choice of that family's hyper-parameters could hand
back on those tasks, and so what ``learnable-sgdm`` (which learns
``(eta, beta)``, and can do no better than a fixed pair up to the grid's
spacing) can reach against tuned Adam. Prints one line per repetition
with each loss and its ratio to tuned Adam.
"""

import argparse
import ast
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SGDM_STEPS = np.geomspace(1e-3, 3.0, 22)
SGDM_MOMENTA = (0.01, 0.5, 0.8, 0.9, 0.95)
ADAM_STEPS = np.geomspace(3e-4, 0.1, 16)


def meta_test_loss(objective, optimizer):
    """The objective's meta-test loss of ``optimizer`` at its initial
    theta (+inf where it diverges)."""
    from benchmark_utils.meta_train import SolverResult
    value = objective.evaluate_result(
        SolverResult(optimizer, optimizer.init_theta()))["value"]
    return value if math.isfinite(value) else math.inf


def oracle(objective, optimizers):
    """``(loss, key)``: the lowest meta-test loss over ``{key: optimizer}``."""
    return min((meta_test_loss(objective, opt), key)
               for key, opt in optimizers.items())


def repetition_row(bench, repetition, dataset_params):
    """Tuned Adam's meta-test loss and the two oracles' for one
    repetition."""
    from benchmark_utils.optimizers import Adam, SGDMomentum
    from studies.meta_training import seeded_objective, seeded_solver
    objective, dataset = seeded_objective(bench, "mlp", dataset_params,
                                          repetition)
    adam = seeded_solver(bench, objective, dataset, "adam", {}, repetition)
    adam.run(None)
    tuned = objective.evaluate_result(adam.get_result()["result"])["value"]
    sgdm = oracle(objective, {
        (float(eta), beta): SGDMomentum(float(eta), beta)
        for eta in SGDM_STEPS for beta in SGDM_MOMENTA})
    adam_lr = oracle(objective, {float(eta): Adam(float(eta))
                                 for eta in ADAM_STEPS})
    return dict(tuned=tuned, tuned_step=adam.eta, sgdm=sgdm, adam=adam_lr)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--dataset", nargs="*", default=[],
                        metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    import torch
    from benchopt.benchmark import Benchmark
    torch.set_num_threads(1)
    params = {k: ast.literal_eval(v) for k, v in
              (item.split("=", 1) for item in args.dataset)}
    bench = Benchmark(ROOT)
    for rep in args.reps:
        row = repetition_row(bench, rep, params)
        tuned = row["tuned"]
        (sgdm, (eta, beta)), (adam, adam_eta) = row["sgdm"], row["adam"]
        print(f"rep {rep}: tuned Adam {tuned:.4f} (step "
              f"{row['tuned_step']:.3g}); oracle SGD-momentum {sgdm:.4f} "
              f"(eta {eta:.3g}, beta {beta:g}), ratio {sgdm / tuned:.3f}; "
              f"oracle Adam {adam:.4f} (step {adam_eta:.3g}), ratio "
              f"{adam / tuned:.3f}", flush=True)


if __name__ == "__main__":
    main()
