"""What meta-training a meta-learning solver does, step by step.

Runs any meta-learning solver (``--solver-name``, default the
``neural-optimizer``) as ``benchopt run`` would (same dataset, objective
and solver classes, same seeds for repetition ``r``), on any task family
(``--dataset-name``, default ``mlp``), and records along its meta-steps:

- ``meta_loss`` and ``grad_norm``: the meta-loss each meta-step
  differentiates (a segment's average loss, or a run's final loss: the
  solver's ``meta_loss``) and its meta-gradient's norm (before clipping);
- ``train_objective``: the full-horizon meta-objective on the meta-train
  tasks, ``F(theta) = mean_j mean_{k=1..T} l_j(w_k)`` (``l`` the loss on the
  solver's split: training loss for train-by-train, held-out loss for
  train-by-validation), on fresh runs (initialisations and mini-batch
  orders never used in meta-training), and ``train_final``, ``l`` at
  ``w_T`` on those runs;
- ``metaval_objective``, ``metaval_final``: the same on meta-validation
  tasks, drawn from the family like the meta-train ones but with another
  seed (never the meta-test tasks, nor the tasks the solver's own
  selection sets apart);
- ``test_loss`` (and ``test_accuracy`` where the family reports it,
  ``train_loss``): the objective's metrics of the solver's current result
  on the held-out meta-test tasks, as benchopt records them.

``summary.csv`` has one row per split and repetition: the meta-test loss
of the untrained start, the best along the run and the result handed
back, and the budget spent (inner-gradient evaluations).

At a few meta-steps it compares gradients on the meta-train tasks at the
current ``theta`` (``gradients.csv``), for each of ``--grad-runs`` fresh
inner runs: the truncated meta-gradient of ``F`` (the sum over the run's
segments of ``truncation`` steps of the segment gradients, each with the
segment's start state held constant; truncation 20 when the solver uses
none) against the exact gradient of ``F`` through the whole run (``cos``,
``norm_ratio``), each single segment's gradient (what one meta-step of
truncated training sees) against it (``cos_segment_j``), and the exact
gradient of ``F`` against that of the final loss ``l(w_T)``
(``cos_average_final``); across runs (``run = "all"``), the spread of each
gradient over initialisations and mini-batch orders: mean pairwise cosine
(``spread_average``, ``spread_final``, ``spread_truncated``) and
``snr_* = ||mean g|| / mean ||g||``.

Finally it runs the untrained and the meta-trained optimizer, and the
latter with its step-number features left unbounded past the horizon it was
meta-trained for (``horizon=None``, where it has such features), for
``--long-horizon`` steps on the meta-test tasks (``horizon.csv``: training
and test loss every few steps; the mini-batches cycle with the dataset's
horizon).

Outputs in ``--out`` (default ``outputs/meta_training``):
``curves.csv``, ``summary.csv``, ``gradients.csv``, ``horizon.csv`` and
``curves.png``, ``gradients.png``, ``horizon.png``. ``--quick`` runs a
tiny version in a few seconds (the test suite checks its outputs'
shape)::

    python -m studies.meta_training [--quick] [--out DIR]
        [--solver-name NAME] [--dataset-name NAME]
        [--splits validation train] [--reps 0 1 ...] [--meta-steps N]
        [--solver key=value ...] [--dataset key=value ...]
"""

import argparse
import ast
from dataclasses import replace
import itertools
from pathlib import Path
import time

import torch

ROOT = Path(__file__).resolve().parents[1]
EVAL_RUN = 10 ** 6          # restart ids of the evaluation runs

QUICK = dict(
    dataset=dict(mlp=dict(n_samples=40, n_test=40, hidden=(8,), horizon=10,
                          n_train_tasks=2, n_test_tasks=2)),
    solver={}, meta_steps=4, every=2, grad_runs=2, eval_runs=1,
    long_horizon=30, diag_truncation=5,
)
FULL = dict(dataset={}, solver={}, meta_steps=None, every=5, grad_runs=4,
            eval_runs=2, long_horizon=1000, diag_truncation=20)


def _component(classes, name):
    (cls,) = [c for c in classes if c.name == name]
    return cls


def _context(objective, dataset, solver, repetition):
    from benchopt.utils.run_context import RunContext
    RunContext().set_run_context(objective, dataset, solver,
                                 repetition=repetition, base_seed=0)


def seeded_objective(bench, dataset_name, dataset_params, repetition):
    """``(objective, dataset)``: the benchmark's objective with the data of
    ``dataset_name`` (``dataset_params`` over its defaults), seeded as
    repetition ``repetition`` of ``benchopt run`` (base seed 0)."""
    dataset = _component(bench.get_datasets(), dataset_name).get_instance(
        **dataset_params)
    objective = bench.get_benchmark_objective().get_instance()
    _context(objective, dataset, "solver", repetition)
    objective.set_data(**dataset.get_data())
    return objective, dataset


def seeded_solver(bench, objective, dataset, solver_name, solver_params,
                  repetition):
    """Solver ``solver_name`` (``solver_params`` over its defaults), set on
    ``objective`` as repetition ``repetition`` of ``benchopt run`` would
    (ValueError with the reason where it skips the setting)."""
    solver = _component(bench.get_solvers(),
                        solver_name).get_instance(**solver_params)
    _context(objective, dataset, solver, repetition)
    skip, reason = solver.skip(**objective.get_objective())
    if skip:
        raise ValueError(f"the solver skips this setting: {reason}")
    solver.set_objective(**objective.get_objective())
    return solver


def setup(bench, dataset_params, solver_params, repetition,
          solver_name="neural-optimizer", dataset_name="mlp"):
    """``(objective, solver, meta-validation tasks)`` seeded as repetition
    ``repetition`` of ``benchopt run`` (base seed 0)."""
    from benchmark_utils.meta_solver import validation_tasks
    objective, dataset = seeded_objective(bench, dataset_name,
                                          dataset_params, repetition)
    solver = seeded_solver(bench, objective, dataset, solver_name,
                           solver_params, repetition)
    # meta-validation tasks: the family drawn with another seed
    _context(objective, dataset, solver, 1000 + repetition)
    dataset._data = None
    metaval = dataset.get_data()["train_tasks"]
    if solver.problem.objective.split == "validation":
        metaval = validation_tasks(metaval, solver.val_fraction)
    return objective, solver, metaval


def step_loss(objective):
    """``l(tasks, w)``, the meta-objective's per-step loss (B,)."""
    def loss(tasks, w):
        value = tasks.loss(objective.split)(w)
        return value if objective.kind == "naive" else torch.log(value)
    return loss


def full_objective(tasks, optimizer, objective, theta, horizon, runs):
    """``(mean over runs and tasks of mean_k l(w_k), of l(w_T))`` on
    fresh runs ``EVAL_RUN + r``, r < ``runs``."""
    from benchmark_utils.unroll import run_steps
    loss = step_loss(objective)
    optimizer = optimizer.for_layout(tasks.layout)
    means, finals = [], []
    with torch.no_grad():
        for r in range(runs):
            t = tasks.restart(EVAL_RUN + r)
            seen = []
            run_steps(t, optimizer, theta.to(t.w0), t.w0,
                      optimizer.init(t.w0), 0, horizon,
                      lambda k, w: seen.append(loss(t, w)))
            means.append(float(torch.stack(seen).mean()))
            finals.append(float(seen[-1].mean()))
    return sum(means) / runs, sum(finals) / runs


def run_gradients(tasks, optimizer, objective, theta, horizon, truncation,
                  run, first_order=False):
    """On run ``run``: the exact full-horizon gradients of the average
    ``F = (1/T) sum_k l(w_k)`` and of the final loss ``l(w_T)``, and the
    truncated gradients of ``F``, segment by segment (each the gradient of
    its share ``(1/T) sum_{k in seg} l(w_k)`` with the segment's start state
    held constant): ``(average, final, [segment gradients])``."""
    from benchmark_utils.unroll import _detach, run_steps
    loss = step_loss(objective)
    optimizer = optimizer.for_layout(tasks.layout)
    t = tasks.restart(run)

    def unroll_from(th, bounds, detach):
        w, state = t.w0, optimizer.init(t.w0)
        shares = []
        for start, stop in bounds:
            seen = []
            w, state = run_steps(t, optimizer, th, w, state, start, stop,
                                 lambda k, w: seen.append(loss(t, w).mean()),
                                 first_order)
            shares.append(torch.stack(seen))
            if detach:
                w, state = w.detach(), _detach(state)
        return shares

    bounds = [(s, min(s + truncation, horizon))
              for s in range(0, horizon, truncation)]
    th = theta.detach().to(t.dtype).requires_grad_(True)
    losses = torch.cat(unroll_from(th, bounds, False))
    (average,) = torch.autograd.grad(losses.mean(), th, retain_graph=True)
    (final,) = torch.autograd.grad(losses[-1], th)
    th = theta.detach().to(t.dtype).requires_grad_(True)
    shares = unroll_from(th, bounds, True)
    segments = [torch.autograd.grad(s.sum() / horizon, th,
                                    retain_graph=True)[0] for s in shares]
    return average, final, segments


def _cos(a, b):
    return float(a @ b / (a.norm() * b.norm() + 1e-30))


def _spread(grads):
    """Mean pairwise cosine of ``grads``, and ``||mean|| / mean ||g||``."""
    pairs = list(itertools.combinations(grads, 2))
    mean = sum(grads) / len(grads)
    return (sum(_cos(a, b) for a, b in pairs) / max(len(pairs), 1),
            float(mean.norm()) / (sum(float(g.norm()) for g in grads)
                                  / len(grads)))


def gradient_rows(tasks, optimizer, objective, theta, horizon, truncation,
                  runs, first_order=False):
    """Rows of ``gradients.csv`` at ``theta``: one per run, one summary
    (``run="all"``: the same comparisons for the means over runs, and the
    spreads)."""
    grads = dict(average=[], final=[], truncated=[])
    rows = []
    for r in range(runs):
        average, final, segments = run_gradients(
            tasks, optimizer, objective, theta, horizon, truncation,
            EVAL_RUN + r, first_order)
        trunc = sum(segments)
        for key, g in zip(grads, (average, final, trunc)):
            grads[key].append(g)
        row = dict(run=r, cos=_cos(trunc, average),
                   norm_ratio=float(trunc.norm() / average.norm()),
                   full_norm=float(average.norm()),
                   final_norm=float(final.norm()),
                   cos_average_final=_cos(average, final))
        for j, seg in enumerate(segments):
            row[f"cos_segment_{j}"] = _cos(seg, average)
        rows.append(row)
    mean = {key: sum(g) / runs for key, g in grads.items()}
    summary = dict(
        run="all", cos=_cos(mean["truncated"], mean["average"]),
        norm_ratio=float(mean["truncated"].norm() / mean["average"].norm()),
        full_norm=float(mean["average"].norm()),
        final_norm=float(mean["final"].norm()),
        cos_average_final=_cos(mean["average"], mean["final"]))
    for key, g in grads.items():
        summary[f"spread_{key}"], summary[f"snr_{key}"] = _spread(g)
    return rows + [summary]


def horizon_rows(tasks, optimizer, theta, horizon, every=10):
    """Training and test loss of the meta-test tasks along ``horizon``
    steps of ``optimizer`` with ``theta``."""
    from benchmark_utils.unroll import run_steps
    optimizer = optimizer.for_layout(tasks.layout)
    rows = []

    def record(k, w):
        if (k + 1) % every == 0 or k == 0:
            rows.append(dict(step=k + 1,
                             train_loss=float(tasks.loss("train")(w).mean()),
                             test_loss=float(tasks.loss("test")(w).mean())))

    with torch.no_grad():
        run_steps(tasks, optimizer, theta.to(tasks.w0), tasks.w0,
                  optimizer.init(tasks.w0), 0, horizon, record)
    return rows


class Recorder:
    """benchopt's callback for the solver's loop, recording as it goes."""

    def __init__(self, objective, solver, metaval, meta_steps, every,
                 eval_runs, grad_steps, grad_runs, diag_truncation, log):
        self.obj, self.solver, self.metaval = objective, solver, metaval
        self.meta_steps, self.every = meta_steps, every
        self.eval_runs, self.grad_steps = eval_runs, grad_steps
        self.grad_runs, self.log = grad_runs, log
        self.diag_truncation = diag_truncation
        self.rows, self.grad_rows, self.last = [], [], {}
        self.calls, self.t0, self.eval_time = 0, time.perf_counter(), 0.0

    def _wrap(self, trainer):
        estimator, last = trainer.estimator, self.last

        class Recording:
            def __getattr__(self, name):
                return getattr(estimator, name)

            def estimate(self, problem, theta, state):
                out, state = estimator.estimate(problem, theta, state)
                last.update(meta_loss=out.loss,
                            grad_norm=float(out.grad.norm()))
                return out, state

        trainer.estimator = Recording()

    def __call__(self):
        trainer = self.solver.trainer
        if self.calls == 0:
            self._wrap(trainer)
        step = trainer.meta_steps
        done = self.solver.finished or (self.meta_steps is not None
                                        and step >= self.meta_steps)
        if step % self.every == 0 or done:
            self.evaluate(trainer, step)
        elif self.last:
            self.rows.append(dict(meta_step=step, **self.last))
        self.calls += 1
        return not done

    def evaluate(self, trainer, step):
        start = time.perf_counter()
        problem = self.solver.problem
        learned = self.solver.get_result()["result"]
        theta = learned.theta
        row = dict(meta_step=step, **self.last)
        row["train_objective"], row["train_final"] = full_objective(
            problem.tasks, problem.optimizer, problem.objective, theta,
            problem.horizon, self.eval_runs)
        row["metaval_objective"], row["metaval_final"] = full_objective(
            self.metaval, problem.optimizer, problem.objective, theta,
            problem.horizon, self.eval_runs)
        metrics = self.obj.evaluate_result(result=learned)
        row.update(test_loss=metrics["value"],
                   test_accuracy=metrics.get("test_accuracy"),
                   train_loss=metrics["train_loss"],
                   inner_gradient_evaluations=metrics[
                       "inner_gradient_evaluations"],
                   meta_train_seconds=(start - self.t0 - self.eval_time))
        self.rows.append(row)
        if step in self.grad_steps:
            truncation = min(getattr(self.solver, "truncation", None)
                             or self.diag_truncation, problem.horizon)
            for g in gradient_rows(problem.tasks, problem.optimizer,
                                   problem.objective, trainer.theta,
                                   problem.horizon, truncation,
                                   self.grad_runs):
                self.grad_rows.append(dict(meta_step=step, **g))
            summary = self.grad_rows[-1]
            self.log(f"  gradients at {step}: cos(trunc, full) "
                     f"{summary['cos']:.2f}, ratio "
                     f"{summary['norm_ratio']:.2f}, cos(average, final) "
                     f"{summary['cos_average_final']:.2f}, spread full "
                     f"{summary['spread_average']:.2f} / final "
                     f"{summary['spread_final']:.2f}")
        self.log(f"  meta-step {step}: F_train {row['train_objective']:.3f}"
                 f" F_metaval {row['metaval_objective']:.3f}, final "
                 f"{row['train_final']:.3f} / {row['metaval_final']:.3f}; "
                 f"test {row['test_loss']:.3f}")
        self.eval_time += time.perf_counter() - start


def _pairs(items):
    """``["key=value", ...]`` -> dict, values read as Python literals."""
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def run(out, quick=False, splits=("validation", "train"), reps=(0,),
        meta_steps=None, solver=None, dataset=None, every=None,
        grad_runs=None, eval_runs=None, long_horizon=None, log=print,
        solver_name="neural-optimizer", dataset_name="mlp"):
    """Run the study; write the CSVs and figures to ``out``; return the
    four DataFrames (curves, gradients, horizon, summary).
    ``grad_runs=0`` skips the gradient comparison, ``long_horizon=0`` the
    long runs. ``meta_steps`` None: the solver's own budget ends each
    run."""
    import pandas as pd
    from benchopt.benchmark import Benchmark

    torch.set_num_threads(min(2, torch.get_num_threads()))
    cfg = dict(QUICK if quick else FULL)
    cfg.update({k: v for k, v in dict(
        every=every, grad_runs=grad_runs, eval_runs=eval_runs,
        long_horizon=long_horizon).items() if v is not None})
    bench = Benchmark(ROOT)
    curves, grads, horizon, summary = [], [], [], []
    for split, rep in itertools.product(splits, reps):
        solver_params = {**cfg["solver"], **(solver or {}), "split": split,
                         "device": "cpu"}
        dataset_params = {**cfg["dataset"].get(dataset_name, {}),
                          **(dataset or {})}
        obj, slv, metaval = setup(bench, dataset_params, solver_params, rep,
                                  solver_name, dataset_name)
        steps = meta_steps or cfg["meta_steps"]
        if steps is not None:       # the study's count, not the budget
            slv.max_meta_steps, slv.budget = steps, None
        planned = steps or 40
        grad_steps = (set() if cfg["grad_runs"] == 0 else
                      {s for s in range(0, planned + 1, cfg["every"])
                       if s % max(cfg["every"], planned // 4) == 0}
                      | ({steps} if steps else set()))
        log(f"{split}, repetition {rep}: "
            + (f"{steps} meta-steps" if steps else
               f"a budget of {slv.inner_gradient_budget} inner gradients"))
        rec = Recorder(obj, slv, metaval, steps, cfg["every"],
                       cfg["eval_runs"], grad_steps, cfg["grad_runs"],
                       cfg["diag_truncation"], log)
        slv.run(rec)
        if not rec.rows or rec.rows[-1]["meta_step"] != \
                slv.trainer.meta_steps or "test_loss" not in rec.rows[-1]:
            rec.evaluate(slv.trainer, slv.trainer.meta_steps)
        tag = dict(split=split, repetition=rep)
        curves += [{**tag, **r} for r in rec.rows]
        grads += [{**tag, **r} for r in rec.grad_rows]
        tested = [r for r in rec.rows if "test_loss" in r]
        summary.append(dict(
            **tag, solver=solver_name, dataset=dataset_name,
            untrained=tested[0]["test_loss"],
            best=min(r["test_loss"] for r in tested),
            handed_back=tested[-1]["test_loss"],
            meta_steps=slv.trainer.meta_steps,
            inner_gradient_evaluations=tested[-1][
                "inner_gradient_evaluations"]))
        learned = slv.get_result()["result"]
        long_h = cfg["long_horizon"]
        opt = learned.optimizer
        free = (replace(opt, horizon=None)
                if getattr(opt, "horizon", None) is not None else None)
        runs = [("untrained", opt, slv.theta0.cpu()),
                ("trained", opt, learned.theta)]
        if free is not None:        # the step features left unbounded
            runs.append(("trained, step features unbounded", free,
                         learned.theta))
        for name, optimizer, theta in runs if long_h else ():
            horizon += [{**tag, "theta": name, **r} for r in horizon_rows(
                obj.test_tasks, optimizer, theta, long_h,
                every=max(1, long_h // 100))]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frames = (pd.DataFrame(curves), pd.DataFrame(grads),
              pd.DataFrame(horizon), pd.DataFrame(summary))
    for name, df in zip(("curves", "gradients", "horizon", "summary"),
                        frames):
        df.to_csv(out / f"{name}.csv", index=False)
    plot(*frames[:3], out, title=f"{solver_name} on {dataset_name}")
    return frames


def plot(curves, grads, horizon, out, title=""):
    """``curves.png``, ``gradients.png``, ``horizon.png`` in ``out``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("meta_loss", "meta-loss of each meta-step"),
              ("train_objective", "full-horizon F, meta-train tasks"),
              ("metaval_objective", "full-horizon F, meta-validation tasks"),
              ("metaval_final", "final loss l(w_T), meta-validation tasks"),
              ("test_loss", "meta-test: test cross-entropy at w_T"),
              ("grad_norm", "meta-gradient norm (before clipping)")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    for ax, (col, label) in zip(axes.flat, panels):
        for (split, rep), df in curves.groupby(["split", "repetition"]):
            df = df.dropna(subset=[col]) if col in df else df.iloc[:0]
            ax.plot(df.meta_step, df[col] if col in df else [],
                    color="C0" if split == "validation" else "C1",
                    alpha=0.8, lw=1, label=f"{split} r{rep}")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("meta-step")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=80)
    plt.close(fig)

    if len(grads):
        _plot_gradients(grads, out, plt)
    if len(horizon):
        _plot_horizon(horizon, out, plt)


def _plot_gradients(grads, out, plt):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
    summary = grads[grads.run.astype(str) == "all"]
    per_run = grads[grads.run.astype(str) != "all"]
    for split, df in per_run.groupby("split"):
        c = "C0" if split == "validation" else "C1"
        axes[0].scatter(df.meta_step, df.cos, color=c, s=12, label=split)
        axes[1].scatter(df.meta_step, df.norm_ratio, color=c, s=12)
        segs = sorted(k for k in df if k.startswith("cos_segment_"))
        axes[2].plot(range(len(segs)), df[segs].mean().values, "o-",
                     color=c, label=split)
    for split, df in summary.groupby("split"):
        c = "C0" if split == "validation" else "C1"
        axes[0].plot(df.meta_step, df.spread_average, "x--", color=c,
                     label=f"{split}: spread of full gradients")
        axes[0].plot(df.meta_step, df.cos_average_final, "s:", color=c,
                     label=f"{split}: cos(average, final)")
    axes[0].set_title("cos(truncated, full) per run; x: spread; "
                      "s: cos(grad average, grad final)", fontsize=9)
    axes[1].set_title("||truncated|| / ||full||", fontsize=9)
    axes[2].set_title("cos(one segment's gradient, full), by segment",
                      fontsize=9)
    for ax in axes:
        ax.axhline(0, color="grey", lw=0.5)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "gradients.png", dpi=80)
    plt.close(fig)


def _plot_horizon(horizon, out, plt):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for (split, rep, name), df in horizon.groupby(["split", "repetition",
                                                   "theta"]):
        style = dict(color="C0" if split == "validation" else "C1",
                     ls={"trained": "-", "untrained": ":"}.get(name, "--"),
                     lw=1)
        label = f"{split} {name}" if rep == 0 else None
        axes[0].plot(df.step, df.train_loss, label=label, **style)
        axes[1].plot(df.step, df.test_loss, **style)
    axes[0].set_title("meta-test tasks: training loss", fontsize=9)
    axes[1].set_title("meta-test tasks: test loss", fontsize=9)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("inner step")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "horizon.png", dpi=80)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "outputs"
                                             / "meta_training"))
    parser.add_argument("--solver-name", default="neural-optimizer")
    parser.add_argument("--dataset-name", default="mlp")
    parser.add_argument("--splits", nargs="+",
                        default=["validation", "train"])
    parser.add_argument("--reps", type=int, nargs="+", default=[0],
                        help="the repetitions (benchopt's seeds) to run")
    parser.add_argument("--meta-steps", type=int, default=None)
    parser.add_argument("--every", type=int, default=None,
                        help="meta-steps between evaluations")
    parser.add_argument("--grad-runs", type=int, default=None,
                        help="inner runs of the gradient comparison (0: "
                        "skip it)")
    parser.add_argument("--eval-runs", type=int, default=None,
                        help="fresh inner runs per full-horizon evaluation")
    parser.add_argument("--long-horizon", type=int, default=None,
                        help="steps of the long runs (0: skip them)")
    parser.add_argument("--solver", nargs="*", help="key=value overrides")
    parser.add_argument("--dataset", nargs="*", help="key=value overrides")
    args = parser.parse_args(argv)
    run(args.out, args.quick, tuple(args.splits), tuple(args.reps),
        args.meta_steps, _pairs(args.solver), _pairs(args.dataset),
        args.every, args.grad_runs, args.eval_runs, args.long_horizon,
        solver_name=args.solver_name, dataset_name=args.dataset_name)


if __name__ == "__main__":
    main()
