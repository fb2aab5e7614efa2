"""``REPRODUCTION.md``: the verdict table, the figures, how it was run."""

import platform


def _cell(text):
    return str(text).replace("|", "\\|")


def verdict_table(verdicts):
    """The markdown table, one row per :class:`~reproduce.verdicts.Verdict`."""
    lines = ["| # | claim | paper | measured now | source | verdict |",
             "|---|---|---|---|---|---|"]
    for v in verdicts:
        mark = "reproduced" if v.reproduced else "**not reproduced**"
        lines.append("| " + " | ".join(_cell(x) for x in (
            v.key, v.claim, v.paper, v.measured, v.source, mark)) + " |")
    return "\n".join(lines)


def write_report(path, verdicts, figures, quick, timings):
    """Write ``REPRODUCTION.md`` at ``path``."""
    n_ok = sum(v.reproduced for v in verdicts)
    mode = ("quick (small sizes: directions only)" if quick
            else "full (the run configs of configs/ as they are)")
    total = sum(timings.values())
    lines = [
        "# Reproduction of Wang, Yuan, Wu, Ge (ICML 2021)", "",
        f"Mode: {mode}. {n_ok} of {len(verdicts)} claims reproduced. "
        f"Wall time {total / 60:.1f} min on {platform.machine()} "
        f"({', '.join(f'{k} {t:.0f} s' for k, t in timings.items())}).",
        "",
        "Each verdict is computed from the parquet tables under "
        "`results/` by `reproduce.verdicts` (rerun: `python -m reproduce "
        "--report-only --out DIR`); the run configs actually run are "
        "under `configs/`.", "",
        verdict_table(verdicts), "", "## Figures", "",
    ]
    for fig in figures:
        lines += [f"![{fig.stem}](figures/{fig.name})", ""]
    path.write_text("\n".join(lines))
