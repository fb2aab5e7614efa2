"""``python -m reproduce [--quick] [--out DIR] [--jobs N] [--report-only]``.

Runs every study of :mod:`reproduce.studies` through ``benchopt run``
(``--jobs`` runs side by side; default 2, 1 on a one-core machine),
computes the library curves (:mod:`reproduce.theory`), then draws the
figures and writes ``DIR/REPRODUCTION.md``. On a terminal a progress bar
says which study runs, how far the whole is and the time left (estimated
from ``DIR/timings.json`` of an earlier run in the same mode, if any).
``--report-only`` redraws the figures and the report from the parquet
tables already in ``DIR``.
"""

import argparse
import json
from pathlib import Path
import sys
import time

from .figures import draw_all
from .progress import Progress
from .report import write_report
from .studies import STUDIES, default_jobs, run_study
from .theory import write_theory
from .verdicts import all_verdicts, load_results


def previous_seconds(path, quick, steps):
    """{step: seconds} of the last run in the same mode, if it timed every
    step (the progress bar's estimate of the time left); else {}."""
    try:
        saved = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    seconds = saved.get("seconds", {})
    if saved.get("quick") != quick or not all(
            seconds.get(s, 0) > 0 for s in steps):
        return {}
    return {s: float(seconds[s]) for s in steps}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m reproduce",
        description="Reproduce the paper's claims: figures and verdicts.")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (a few minutes): directions only")
    parser.add_argument("--out", default="outputs/reproduction",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="benchopt runs side by side (default: "
                             "%(default)s)")
    parser.add_argument("--report-only", action="store_true",
                        help="only redraw figures and report from DIR")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    out = Path(args.out)
    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    timings = {}
    if not args.report_only:
        steps = ["library"] + [study.name for study in STUDIES]
        before = previous_seconds(out / "timings.json", args.quick, steps)
        with Progress(sum(before.values()) if before else len(steps),
                      "reproduce") as bar:
            with bar.step("library", before.get("library")):
                start = time.perf_counter()
                write_theory(results, args.quick)
                timings["library"] = time.perf_counter() - start
            bar.write(f"library curves: {timings['library']:.0f} s")
            for study in STUDIES:
                with bar.step(study.name, before.get(study.name)):
                    start = time.perf_counter()
                    run_study(study, out, args.quick, log=bar.write,
                              jobs=args.jobs)
                    timings[study.name] = time.perf_counter() - start
        (out / "timings.json").write_text(json.dumps(
            dict(quick=args.quick, seconds=timings), indent=1))
    saved = json.loads((out / "timings.json").read_text())
    tables = load_results(results)
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    paths = draw_all(tables, figures)
    verdicts = all_verdicts(tables)
    write_report(out / "REPRODUCTION.md", verdicts, paths, saved["quick"],
                 saved["seconds"])
    for v in verdicts:
        print(f"{v.key:>3} {'ok ' if v.reproduced else 'NO '} {v.measured}")
    print(f"wrote {out / 'REPRODUCTION.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
