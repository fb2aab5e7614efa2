"""Short labels of benchopt solver and dataset names, for figures and
tables: ``name[a=1,split=train]`` -> ``name[split=train]``."""

#: solver parameters that tell the runs of a study apart
SOLVER_SHOWN = ("split", "meta_objective", "gradient", "eta0",
                "meta_optimizer", "variant", "rule")
#: dataset parameters that tell the datasets of a default run apart
DATASET_SHOWN = ("spectrum", "horizon", "n_train_tasks")


def short_label(name, shown=SOLVER_SHOWN):
    """``name`` with only the parameters in ``shown`` kept."""
    base, _, params = name.partition("[")
    kept = [p for p in params.rstrip("]").split(",")
            if p.split("=")[0] in shown]
    return base + (f"[{','.join(kept)}]" if kept else "")
