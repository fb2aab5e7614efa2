"""``python -m reproduce [--quick] [--out DIR] [--report-only]``.

Runs every study of :mod:`reproduce.studies` through ``benchopt run``,
computes the library curves (:mod:`reproduce.theory`), then draws the
figures and writes ``DIR/REPRODUCTION.md``. ``--report-only`` redraws the
figures and the report from the parquet tables already in ``DIR``.
"""

import argparse
import json
from pathlib import Path
import sys
import time

from .figures import draw_all
from .report import write_report
from .studies import STUDIES, run_study
from .theory import write_theory
from .verdicts import all_verdicts, load_results


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m reproduce",
        description="Reproduce the paper's claims: figures and verdicts.")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (a few minutes): directions only")
    parser.add_argument("--out", default="outputs/reproduction",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--report-only", action="store_true",
                        help="only redraw figures and report from DIR")
    args = parser.parse_args(argv)
    out = Path(args.out)
    results = out / "results"
    results.mkdir(parents=True, exist_ok=True)
    timings = {}
    if not args.report_only:
        start = time.perf_counter()
        write_theory(results, args.quick)
        timings["library"] = time.perf_counter() - start
        print(f"library curves: {timings['library']:.0f} s", flush=True)
        for study in STUDIES:
            start = time.perf_counter()
            run_study(study, out, args.quick,
                      log=lambda m: print(m, flush=True))
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
