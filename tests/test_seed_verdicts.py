"""The neural rows of the reproduction (8a-8c) are verdicts over seeds: a
gap the paper claims needs an interval that excludes 0, read per
repetition from the tables (fast: synthetic tables, no run)."""

import math

import numpy as np
import pandas as pd

from reproduce.verdicts import (
    above_zero, mlp_label_noise, mlp_more_data, mlp_small_data,
    seed_interval,
)


def test_the_interval_is_over_seeds_and_needs_three():
    mean, low, high = seed_interval([0.10, 0.12, 0.11, 0.13, 0.09])
    assert low <= mean <= high and low > 0
    assert above_zero((mean, low, high))
    # a mean > 0 whose seeds straddle 0 does not exclude it
    assert not above_zero(seed_interval([0.3, -0.2, 0.25, -0.15, 0.1]))
    two = seed_interval([0.1, 0.2])
    assert math.isnan(two[1]) and math.isnan(two[2])
    assert above_zero(two)              # without interval: the mean decides
    assert seed_interval([0.0, 0.0, 0.0]) == (0.0, 0.0, 0.0)


def paper_mlp(tbt, tbv, untrained, n_seeds=5, spread=0.01):
    """A paper_mlp table: per seed, the neural optimizer's first (the
    untrained start) and last evaluation, TbT and TbV, and tuned Adam, in
    three settings; losses ``tbt``, ``tbv``, ``untrained`` plus noise."""
    rng = np.random.default_rng(0)
    rows = []
    for n, noise in ((200, 0.0), (200, 0.2), (1200, 0.0)):
        for rep in range(n_seeds):
            def add(solver, stop, value, acc=1.0):
                rows.append(dict(
                    dataset_name=f"mlp[n_samples={n},label_noise={noise}]",
                    solver_name=solver, idx_rep=rep, stop_val=stop,
                    objective_value=value + spread * rng.standard_normal(),
                    objective_train_accuracy=acc,
                    p_dataset_n_samples=n, p_dataset_label_noise=noise))
            for split, final in (("train", tbt), ("validation", tbv)):
                name = f"neural-optimizer[split={split}]"
                add(name, 0, untrained)
                add(name, 9, final[n], acc=0.99)
            add("adam[val_fraction=0.5]", 1, 0.5)
    return {"paper_mlp": pd.DataFrame(rows)}


def test_verdicts_hold_when_every_seed_shows_the_claim():
    tables = paper_mlp(tbt={200: 0.8, 1200: 0.30}, tbv={200: 0.5, 1200: 0.29},
                       untrained=0.6)
    for verdict in (mlp_small_data, mlp_label_noise, mlp_more_data):
        v = verdict(tables)
        assert v.reproduced, v.measured
        assert "(5 seeds, 95% intervals)" in v.measured


def test_a_gap_within_the_seeds_noise_is_not_reproduced():
    # TbT - TbV = 0.005 with seeds spread by 0.05: the interval holds 0
    tables = paper_mlp(tbt={200: 0.505, 1200: 0.30},
                       tbv={200: 0.5, 1200: 0.29}, untrained=0.6, spread=0.05)
    assert not mlp_small_data(tables).reproduced
    # TbV above its untrained start in every seed: not reproduced
    tables = paper_mlp(tbt={200: 0.8, 1200: 0.30}, tbv={200: 0.5, 1200: 0.29},
                       untrained=0.45)
    assert not mlp_small_data(tables).reproduced
    # more data, TbT 50% above TbV: not "close"
    tables = paper_mlp(tbt={200: 0.8, 1200: 0.45}, tbv={200: 0.5, 1200: 0.30},
                       untrained=0.6)
    assert not mlp_more_data(tables).reproduced
