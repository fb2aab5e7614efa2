"""Distributed runs on benchopt's engines give the results of a local run.

A small benchmark runs three ways through the CLI, with no cache: locally,
with ``-j 2`` (joblib's loky workers), and on a real dask cluster (a
scheduler and two workers started on 127.0.0.1) through
``--parallel-config``. The shipped parallel configs pass benchopt's config
checker; the SLURM one also passes submitit's parameter check.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.slow

CONFIG = """
max-runs: 8
timeout: 60
dataset:
  - "quadratic[spectrum=linspace,dim=8,horizon=30]"
  - "least_squares[dim=12,n_samples=8,n_train_tasks=4,n_test_tasks=4]"
solver:
  - "log-unrolled[gradient=stable]"
  - "grid-search[split=train]"
  - "hypergradient[variant=multiplicative]"
  - dog
"""
KEY = ["dataset_name", "solver_name", "stop_val"]
ENV = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true", OMP_NUM_THREADS="1")


def _run(tmp, name, *extra):
    config = tmp / "config.yml"
    config.write_text(CONFIG)
    out = tmp / f"{name}.parquet"
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(config), "--no-cache", "--no-plot", "--output", str(out),
         *extra],
        capture_output=True, text=True, env=ENV, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return pd.read_parquet(out)


def _metrics(df):
    """The objective's columns, one row per (dataset, solver, point)."""
    cols = KEY + sorted(c for c in df.columns if c.startswith("objective_")
                        and c != "objective_name")
    return df[cols].sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return _metrics(_run(tmp_path_factory.mktemp("local"), "local"))


def _assert_same(results, local):
    assert len(results.groupby(KEY[:2])) == 8
    pd.testing.assert_frame_equal(_metrics(results), local)


def test_n_jobs_2_equals_local(tmp_path, local):
    _assert_same(_run(tmp_path, "jobs2", "-j", "2"), local)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A dask scheduler and 2 single-threaded workers on 127.0.0.1."""
    distributed = pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    cli = [sys.executable, "-m"]
    procs = [subprocess.Popen(
        cli[:2] + ["distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                   "--port", address.rsplit(":", 1)[1], "--no-dashboard"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )]
    try:
        procs.append(subprocess.Popen(
            cli[:2] + ["distributed.cli.dask_worker", address,
                       "--nworkers", "2", "--nthreads", "1",
                       "--no-dashboard"],
            env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ))
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_dask_cluster_equals_local(tmp_path, local, dask_cluster):
    shipped = yaml.safe_load((ROOT / "configs/parallel_dask.yml").read_text())
    config = dict(shipped, dask_address=dask_cluster)
    (tmp_path / "dask.yml").write_text(yaml.safe_dump(config))
    start = time.perf_counter()
    results = _run(tmp_path, "dask", "--parallel-config",
                   str(tmp_path / "dask.yml"))
    print(f"dask run: {time.perf_counter() - start:.1f} s")
    _assert_same(results, local)


def _checked(path, monkeypatch):
    from benchopt import parallel_backends
    # the checker marks this process as a distributed front node
    monkeypatch.setattr(parallel_backends, "_DISTRIBUTED_FRONTAL", False)
    return parallel_backends.check_parallel_config(str(path), None)


def test_dask_config_is_valid(monkeypatch):
    config = _checked(ROOT / "configs/parallel_dask.yml", monkeypatch)
    assert config == {"backend": "dask",
                      "dask_address": "tcp://127.0.0.1:8786"}


def test_slurm_config_is_valid(monkeypatch, tmp_path):
    config = _checked(ROOT / "configs/parallel_slurm.yml", monkeypatch)
    assert config.pop("backend") == "submitit"
    assert all(key.startswith("slurm_") for key in config)
    assert isinstance(config["slurm_time"], str)      # HH:MM:SS, not an int
    submitit = pytest.importorskip("submitit")
    # what benchopt does with it: submitit rejects unknown slurm_ keys
    executor = submitit.AutoExecutor(Path(tmp_path), cluster="debug")
    executor.update_parameters(**config)
