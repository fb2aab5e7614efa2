"""Performance figures of the benchmark, one JSON object per line.

    python benchmarks/run.py            # full sizes (about 10 minutes)
    python benchmarks/run.py --quick    # smaller sizes, same names
    python benchmarks/gpu.py            # the learned-optimizer figures on CUDA

Each figure has ``name``, ``value``, ``unit``, ``target`` and, for a
comparison, ``anchor``: what it was compared with, measured in the same
run, side by side.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import allocator  # noqa: E402
from common import emit  # noqa: E402
import end_to_end  # noqa: E402
import hardware  # noqa: E402
import modules  # noqa: E402
import neural  # noqa: E402
import scalar  # noqa: E402
import suites  # noqa: E402

FULL = dict(speed=(8, 500, 1000), memory=(8, 500, 1000),
            neural=dict(n_tasks=8, truncation=50, repeats=2), run=(),
            modules=dict(n_tasks=8, horizon=100, repeats=3),
            suites=dict(horizon=100, hidden=(100, 20)),
            hardware=hardware.FULL,
            allocator=dict(n_tasks=4, horizon=100, rounds=2))
QUICK = dict(speed=(8, 100, 200), memory=(4, 100, 100),
             neural=dict(n_tasks=4, truncation=10, repeats=1),
             run=("-d", "quadratic[spectrum=linspace,horizon=80]"),
             modules=dict(n_tasks=4, horizon=20, repeats=1),
             suites=dict(horizon=10, hidden=(16,)),
             hardware=hardware.QUICK,
             allocator=dict(n_tasks=2, horizon=10, rounds=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, same figure names")
    parser.add_argument("--device", default="cpu",
                        help="where the learned-optimizer figures run "
                             "(benchmarks/gpu.py: cuda)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    for fig in scalar.speed(*sizes["speed"]):
        emit(fig)
    for fig in scalar.memory(*sizes["memory"]):
        emit(fig)
    for fig in scalar.meta_evals_to_optimum():
        emit(fig)
    for fig in neural.speedup(**sizes["neural"]):
        emit(fig)
    for fig in hardware.all_figures(sizes["hardware"], args.device):
        emit(fig)
    for fig in allocator.evaluation(**sizes["allocator"]):
        emit(fig)
    for fig in modules.speed(**sizes["modules"]):
        emit(fig)
    for fig in suites.cost(**sizes["suites"]):
        emit(fig)
    for fig in end_to_end.default_run(sizes["run"]):
        emit(fig)


if __name__ == "__main__":
    main()
