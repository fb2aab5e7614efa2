"""One device for the whole run: the objective's ``device`` places the
meta-train tasks, solvers follow them (or override), each result is
evaluated where it was chosen, and the exact float64 paths stay on the CPU.
Without a GPU the CUDA cases skip with the reason."""

import math

import pytest
import torch
from benchopt.benchmark import Benchmark
from benchopt.utils.run_context import RunContext

from benchmark_utils.devices import solver_device, synchronize
from conftest import (
    ROOT, make_dataset, run_solver, solver_names,
)

BENCH = Benchmark(ROOT)
OBJECTIVE = BENCH.get_benchmark_objective()
no_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                             reason="no CUDA device here")


def objective_on(device, dataset):
    """The objective with ``device`` and ``dataset``'s data, as in a run."""
    objective = OBJECTIVE.get_instance(device=device)
    RunContext().set_run_context(objective, dataset, "tests", repetition=0,
                                 base_seed=0)
    return objective, dataset.get_data()


def least_squares():
    return make_dataset(BENCH, "least_squares", dim=5, n_samples=6,
                        n_train_tasks=2, n_test_tasks=2, horizon=5)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is here")
def test_cuda_run_without_gpu_is_skipped_with_the_reason():
    objective, data = objective_on("cuda", least_squares())
    skip, reason = objective.skip(**data)
    assert skip and "cuda" in reason.lower()


def test_solvers_follow_the_run_and_results_say_where():
    assert solver_device("auto", "cpu") == torch.device("cpu")
    assert solver_device("cpu", "cpu") == torch.device("cpu")
    synchronize("cpu")                                  # a no-op
    objective, data = objective_on("cpu", least_squares())
    objective.set_data(**data)
    assert objective.run_device == torch.device("cpu")
    solver, metrics = run_solver(BENCH, objective, "log-unrolled",
                                 max_meta_steps=3)
    assert solver.get_result()["result"].device == torch.device("cpu")
    assert metrics["value"] == metrics["value"]


@no_cuda
@pytest.mark.parametrize("solver", ["log-unrolled", "neural-optimizer"])
def test_a_cuda_run_matches_the_cpu_run(solver):
    """Meta-training and evaluation on CUDA; the exact paths on the CPU."""
    name, params = (("least_squares", dict(dim=5, n_samples=6))
                    if solver == "log-unrolled" else
                    ("mlp", dict(n_samples=40, n_test=40, hidden=(8,))))
    dataset = make_dataset(BENCH, name, n_train_tasks=2, n_test_tasks=2,
                           horizon=5, **params)
    metrics = {}
    for device in ("cpu", "cuda"):
        objective, data = objective_on(device, dataset)
        objective.set_data(**data)
        solver_, metrics[device] = run_solver(BENCH, objective, solver,
                                              max_meta_steps=2)
        assert solver_.get_result()["result"].device.type == device
    assert metrics["cuda"]["value"] == pytest.approx(
        metrics["cpu"]["value"], rel=1e-4)


CUDA_FAMILIES = {
    "least_squares": dict(dim=5, n_samples=6),
    "mlp": dict(n_samples=40, n_test=40, hidden=(8,)),
}


@no_cuda
@pytest.mark.parametrize("family", sorted(CUDA_FAMILIES))
@pytest.mark.parametrize("name", solver_names())
def test_every_solver_runs_on_cuda(name, family):
    """Every solver, with its first parameter values, in a run whose
    device is CUDA: it meta-trains (or runs) there, its result says it was
    chosen there and is evaluated there, every metric is a float and the
    meta-test value is finite. The learned optimizers run eager here
    (``compile=False``): their compiled CUDA update is compared with the
    eager one in ``tests/test_compiled_optimizer.py``."""
    dataset = make_dataset(BENCH, family, n_train_tasks=2, n_test_tasks=2,
                           horizon=5, **CUDA_FAMILIES[family])
    objective, data = objective_on("cuda", dataset)
    objective.set_data(**data)
    (cls,) = [c for c in BENCH.get_solvers() if c.name == name]
    params = {"compile": False} if "compile" in cls.parameters else {}
    solver, metrics = run_solver(BENCH, objective, name, max_meta_steps=3,
                                 skip_unsupported=True, **params)
    where = solver.get_result()["result"].device     # None: the run's
    assert where is None or torch.device(where).type == "cuda", (name, where)
    assert all(isinstance(v, float) for v in metrics.values()
               if not isinstance(v, str)), name
    assert math.isfinite(metrics["value"]), (name, metrics["value"])
