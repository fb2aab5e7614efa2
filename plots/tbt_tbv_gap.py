from benchopt import BasePlot

from benchmark_utils.result_plots import (
    GROUP_COLORS, ceiling, clip, dataset_rows, dataset_title, diverged,
    final_values, median, metric, readable_finals, short_labels,
    split_group,
)

PREFIX = {"train": "TbT", "validation": "TbV"}


class Plot(BasePlot):
    """Train-by-train against train-by-validation: the final meta-test
    metric of every meta-learner whose meta-objective is on the training
    split (TbT, red) or on a held-out validation split (TbV, blue), and
    the best solver with neither (a reference, grey). On least squares
    the trivial ``w = 0`` is drawn too (excess risk ``||w*||^2 = 1``: the
    family's ``w*`` is on the unit sphere)."""

    name = "tbt_tbv_gap"
    type = "bar_chart"
    options = {"dataset": ..., "objective": ...}

    def _bars(self, rows):
        column, _ = metric(rows)
        top = ceiling(readable_finals(rows, column), bars=True)
        ended = diverged(rows)
        finals = final_values(rows, column)
        labels = short_labels(rows)
        groups = {s: split_group(rows, s) for s in finals}

        def bar(solver, label, color):
            return dict(y=clip([top] if solver in ended else finals[solver],
                               top), label=label, color=color,
                        text="diverged" if solver in ended else "")

        bars = []
        for group in ("train", "validation"):
            members = [s for s in finals if groups[s] == group]
            for solver in sorted(members, key=lambda s: (
                    s in ended, median(finals[s]))):
                bars.append(bar(solver, f"{PREFIX[group]}: {labels[solver]}",
                                GROUP_COLORS[group]))
        references = [s for s in finals
                      if groups[s] == "reference" and s not in ended]
        if references:
            best = min(references, key=lambda s: median(finals[s]))
            bars.append(bar(best, f"best reference: {labels[best]}",
                            GROUP_COLORS["reference"]))
        if column == "objective_excess_risk":
            bars.append(dict(y=[1.0], label="w = 0", text="",
                             color=GROUP_COLORS["reference"]))
        return bars, set(groups.values())

    def plot(self, df, dataset, objective):
        return self._bars(dataset_rows(df, dataset, objective))[0]

    def get_metadata(self, df, dataset, objective):
        rows = dataset_rows(df, dataset, objective)
        _, label = metric(rows)
        _, groups = self._bars(rows)
        title = (f"{dataset_title(df, dataset)}: final {label}\n"
                 "red: meta-objective on the training split (TbT), "
                 "blue: on a validation split (TbV)")
        if "validation" not in groups:
            title += "\nno TbV run for this dataset"
            samples = rows.get("p_dataset_n_samples")
            if samples is None or samples.isna().all():
                title += " (no samples to hold out: no validation split)"
        return {"title": title, "ylabel": f"final {label}"}
