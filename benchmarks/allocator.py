"""Figure 7: the CPU paths with freed memory kept in the process or not.

The meta-test evaluation of each learned optimizer (100 steps on 4 digits
MLP tasks, float32, one thread, no graph) timed in two fresh processes,
one with glibc's default allocator settings
(``BENCHMARK_KEEP_FREED_MEMORY=0``) and one with
:func:`benchmark_utils.allocator.keep_freed_memory`, in turn, round by
round; each figure is the ratio of the minima.
"""

import json
import os
import subprocess
import sys

from common import ROOT, figure

_CHILD = """
import json, time, torch
torch.set_num_threads(1)
import benchmark_utils.allocator as allocator
from benchmark_utils.evaluation import evaluate_unrolled
from benchmark_utils.image_data import load_digits
from benchmark_utils.optimizers import NeuralOptimizer
from benchmark_utils.optimizers.adafac import AdafacOptimizer
from benchmark_utils.optimizers.lstm import LSTMOptimizer
from benchmark_utils.tasks import make_generator, make_mlp_tasks
X, y = load_digits()
tasks = make_mlp_tasks(X, y, {n_tasks}, 100, 100, (100, 20), 32, 0.0,
                       {horizon}, make_generator(0), torch.float32)
out = dict(kept=allocator.keep_freed_memory())
for name, cls in (("neural", NeuralOptimizer), ("lstm", LSTMOptimizer),
                  ("adafac", AdafacOptimizer)):
    opt = cls().for_layout(tasks.layout)
    theta = opt.init_theta(make_generator(1), torch.float32)
    evaluate_unrolled(tasks, opt, theta, 2)
    start = time.perf_counter()
    evaluate_unrolled(tasks, opt, theta, {horizon})
    out[name] = time.perf_counter() - start
print(json.dumps(out))
"""


def _child(keep, n_tasks, horizon):
    env = dict(os.environ, BENCHMARK_KEEP_FREED_MEMORY="1" if keep else "0",
               OMP_NUM_THREADS="1")
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        env.pop(name, None)
    code = _CHILD.format(n_tasks=n_tasks, horizon=horizon)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def evaluation(n_tasks=4, horizon=100, rounds=2):
    """``evaluation_kept_over_default_<name>`` per learned optimizer."""
    best = {True: {}, False: {}}
    for _ in range(rounds):
        for keep in (False, True):
            times = _child(keep, n_tasks, horizon)
            assert times.pop("kept") == keep, "the setting did not apply"
            for name, t in times.items():
                best[keep][name] = min(best[keep].get(name, t), t)
    sizes = dict(n_tasks=n_tasks, horizon=horizon, hidden=[100, 20],
                 dtype="float32", threads=1)
    return [figure(
        f"evaluation_kept_over_default_{name}",
        best[True][name] / best[False][name], "ratio", "< 1",
        f"the same evaluation with glibc's default thresholds: "
        f"{best[False][name]:.2f} s; freed memory kept: "
        f"{best[True][name]:.2f} s", sizes=sizes)
        for name in best[True]]


if __name__ == "__main__":          # pragma: no cover
    from common import emit
    for fig in evaluation():
        emit(fig)
