"""The benchopt runs behind the claims: one run config per study.

Each study is a file of ``configs/``, run as is by the full reproduction
and, with ``--quick``, with the overrides below (smaller dimensions, fewer
tasks and settings: the same phenomena at a size that runs in minutes).
The run configs are written to ``OUT/configs/`` and each run's parquet
table to ``OUT/results/<study>.parquet``.
"""

from dataclasses import dataclass, field
import os
from pathlib import Path
import subprocess
import sys
import time

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Study:
    """A run config of ``configs/`` and its quick variant.

    ``quick`` replaces top-level keys of the config (``dataset``,
    ``solver``, ``max-runs``, ``timeout``) in quick mode. ``quick_jobs``:
    whether the quick runs are long enough to run side by side (a
    benchopt worker takes some 5 s to start, longer than a quick run of
    most studies took: side by side, the small studies' quick runs took
    9-13 s each instead of 5-10); the full runs always are.
    """

    name: str
    config: str
    quick: dict = field(default_factory=dict)
    quick_jobs: bool = False

    def jobs(self, quick, jobs):
        """The runs side by side for this study (``--jobs`` ``jobs``)."""
        return jobs if (self.quick_jobs or not quick) else 1


def _least_squares(**params):
    return {"least_squares": params}


# the paper's neural optimizer and its meta-training (Section 5, Metz et
# al.'s): its start (a step of 1e-3 d exp(1e-3 m), init="paper"), the loss
# averaged over unrolls of random length, first order, RMSProp at 1e-2
# with clipping, every meta-step kept (no selection), half of the samples
# validating; unrolls of 20 + Exp(30) steps where the paper has 50 +
# Exp(100) (runs of T = 100 to 200 steps here, against its 4000, and the
# memory of backprop through one unroll: 4.4 GB at 50 steps on 8 tasks).
# The solver's own defaults differ (docs/neural_meta_training.md).
PAPER_MLP_RECIPE = {"init": "paper", "first_order": True,
                    "meta_optimizer": "rmsprop", "meta_lr": 1e-2,
                    "meta_loss": "average", "truncation": 20,
                    "truncation_exp": 30.0, "select_every": None,
                    "val_fraction": 0.5, "budget": None}
_SMALL_MLP = dict(horizon=100, n_train_tasks=4, n_test_tasks=4, score=False)

STUDIES = (
    Study("paper_fig1", "configs/paper_fig1.yml", {
        "solver": [
            {"log-unrolled": {"gradient": ["stable", "backprop"],
                              "eta0": [0.1, 1.0],
                              "meta_optimizer": ["brent"]}},
            {"naive-unrolled": {"eta0": 0.1,
                                "meta_optimizer": ["brent"]}},
        ],
    }),
    Study("paper_fig2", "configs/paper_fig2.yml", {
        "dataset": [{"quadratic": {
            "spectrum": ["wishart", "linspace"], "dim": 20,
            "horizon": [1, 5, 20, 80, 1000, 100000], "n_train_tasks": 1,
        }}],
    }),
    Study("paper_fig3", "configs/paper_fig3.yml", {
        "dataset": [_least_squares(
            dim=100, n_samples=50, noise=[0.25, 1.0, 4.0], horizon=40,
            n_train_tasks=20, n_test_tasks=10)],
        "solver": [{"grid-search": {"split": ["train", "validation"]}},
                   {"log-unrolled": {"gradient": "stable"}},
                   {"train-by-validation": {"meta_objective": "log"}}],
    }),
    Study("paper_fig4", "configs/paper_fig4.yml", {
        "dataset": [_least_squares(
            dim=100, n_samples=[50, 100, 200, 400, 800], noise=1.0,
            horizon=40, n_train_tasks=20, n_test_tasks=10)],
    }),
    # quick: a fixed number of evaluations (max-runs), not a time budget,
    # so that the meta-training is the same on a loaded machine
    Study("paper_mlp", "configs/paper_mlp.yml", {
        "timeout": 300,
        "max-runs": 6,
        "n-repetitions": 3,
        "dataset": [
            {"mlp": {"n_samples": 200, "n_test": 500,
                     "label_noise": [0.0, 0.2], **_SMALL_MLP}},
            {"mlp": {"n_samples": 1200, "n_test": 500, **_SMALL_MLP}},
        ],
        "solver": [{"neural-optimizer": {"split": ["train", "validation"],
                                         **PAPER_MLP_RECIPE}},
                   "adam"],
    }, quick_jobs=True),
    Study("horizon_generalization", "configs/horizon_generalization.yml", {
        "dataset": [
            _least_squares(dim=100, n_samples=50, noise=1.0, horizon=40,
                           eval_horizon=[None, 400], n_train_tasks=20,
                           n_test_tasks=10),
            _least_squares(dim=100, n_samples=50, noise=1.0, horizon=400,
                           n_train_tasks=20, n_test_tasks=10),
        ],
    }),
    Study("stochastic_least_squares", "configs/stochastic_least_squares.yml",
          {"dataset": [_least_squares(
              dim=100, n_samples=50, noise=[0.25, 1.0, 4.0], horizon=40,
              batch_size=10, n_train_tasks=20, n_test_tasks=10)]}),
)


def study_config(study, quick):
    """The run config of ``study`` as a dict (quick overrides applied)."""
    config = yaml.safe_load((ROOT / study.config).read_text())
    if quick:
        config.update(study.quick)
    return config


def default_jobs():
    """Runs side by side by default: 2, or 1 on a one-core machine (the
    reproduction's times are measured on 2 cores; a worker of the full
    paper_mlp study holds a few GB)."""
    return min(2, os.cpu_count() or 1)


def run_study(study, out, quick, log=print, jobs=1):
    """``benchopt run`` the study's config; return its parquet path.

    Runs with ``--no-cache`` and ``BENCHOPT_RAISE_ON_ERROR=true`` (a
    failing solver stops the reproduction instead of leaving a hole), and
    up to ``jobs`` runs side by side (benchopt's ``-j``, see
    :meth:`Study.jobs`; each run is seeded by its repetition, so the
    results do not depend on it); with more than one, each run gets one
    thread (``OMP_NUM_THREADS=1`` unless it is set), so that the runs do
    not share the cores twice over.
    """
    configs, results = Path(out) / "configs", Path(out) / "results"
    configs.mkdir(parents=True, exist_ok=True)
    results.mkdir(parents=True, exist_ok=True)
    config = configs / f"{study.name}.yml"
    config.write_text(yaml.safe_dump(study_config(study, quick),
                                     sort_keys=False))
    parquet = results / f"{study.name}.parquet"
    env = dict(os.environ, BENCHOPT_RAISE_ON_ERROR="true")
    jobs = study.jobs(quick, jobs)
    if jobs > 1:
        env.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "run", str(ROOT), "--config",
         str(config), "--no-cache", "--no-plot", "--output", str(parquet),
         "-j", str(jobs)],
        capture_output=True, text=True, env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"benchopt run failed for {study.name}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    log(f"{study.name}: {time.perf_counter() - start:.0f} s")
    return parquet
