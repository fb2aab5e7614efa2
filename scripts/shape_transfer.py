"""Does a theta meta-trained on one network shape carry to others?

    python scripts/shape_transfer.py [--meta-steps 30] [--seeds 3]

The neural optimizer meta-trains with its defaults (train-by-validation)
on digits MLP tasks with one hidden layer of 16 units (100 samples,
T = 30, 4 meta-train and 4 meta-test tasks: the size of
``tests/test_neural_meta_training.py``) for ``--meta-steps`` meta-steps,
then its untrained start and its result are evaluated on the meta-test
tasks of that shape, of 4x wider networks (64,) and of networks twice as
deep (16, 16) (no budget: the meta-steps end the run). Prints one line
per seed: ``untrained -> trained`` test cross-entropy per shape.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from benchopt.benchmark import Benchmark  # noqa: E402

from benchmark_utils.evaluation import evaluate  # noqa: E402
from benchmark_utils.meta_train import SolverResult  # noqa: E402
from conftest import make_dataset, make_objective, run_solver  # noqa: E402

SMALL = dict(n_samples=100, n_test=200, hidden=(16,), horizon=30,
             n_train_tasks=4, n_test_tasks=4)
SHAPES = ((16,), (64,), (16, 16))


def transfer(bench, meta_steps, seed):
    """``{shape: (layout, untrained, trained)}``: the meta-test tasks'
    parameter layout and the meta-test metrics
    (:func:`~benchmark_utils.evaluation.evaluate`) of the untrained start
    and of the result, for one seed (benchopt repetition ``seed``);
    ``tests/test_neural_meta_training.py`` asserts on them."""
    obj = make_objective(bench, make_dataset(bench, "mlp", **SMALL), seed)
    solver, _ = run_solver(bench, obj, "neural-optimizer", meta_steps,
                           repetition=seed, split="validation",
                           device="cpu", budget=None)
    result = solver.get_result()["result"]
    start = SolverResult(solver.problem.optimizer, solver.theta0)
    out = {}
    for hidden in SHAPES:
        other = make_objective(bench, make_dataset(
            bench, "mlp", **{**SMALL, "hidden": hidden}), seed)
        out[hidden] = (other.test_tasks.layout, *(
            evaluate(other.test_tasks, r, other.horizon)
            for r in (start, result)))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--meta-steps", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    bench = Benchmark(ROOT)
    for seed in range(args.seeds):
        cells = transfer(bench, args.meta_steps, seed)
        print(f"seed {seed}: " + ", ".join(
            f"{hidden}: {u['value']:.3f} -> {t['value']:.3f}"
            for hidden, (_, u, t) in cells.items()), flush=True)


if __name__ == "__main__":
    main()
