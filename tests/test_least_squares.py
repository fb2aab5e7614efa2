"""Paper Section 4: train-by-train overfits when data is scarce and noisy,
train-by-validation does not; with plenty of data they agree."""

import pytest

from conftest import make_dataset, make_objective, run_solver

TRAIN_SPLIT = [
    ("log-unrolled", dict(gradient="stable")),
    ("naive-unrolled", {}),
    ("grid-search", dict(split="train")),
]
VALIDATION_SPLIT = [
    ("train-by-validation", dict(meta_objective="log")),
    ("train-by-validation", dict(meta_objective="naive")),
    ("grid-search", dict(split="validation")),
]


def excess_risks(bench, solvers, **params):
    dataset = make_dataset(bench, "least_squares", **params)
    objective = make_objective(bench, dataset)
    return [run_solver(bench, objective, name, **kw)[1]["excess_risk"]
            for name, kw in solvers]


@pytest.fixture(scope="module")
def scarce(bench):
    params = dict(dim=200, n_samples=100, noise=1.0, horizon=40)
    return (excess_risks(bench, TRAIN_SPLIT, **params),
            excess_risks(bench, VALIDATION_SPLIT, **params))


def test_train_by_train_overfits_with_scarce_noisy_data(scarce):
    tbt, tbv = scarce
    # TbV beats the trivial w = 0 (excess risk ||w*||^2 = 1), TbT does not
    assert max(tbv) < 0.9 < 1.2 < min(tbt)
    assert min(tbt) > 1.4 * max(tbv)


def test_train_by_train_is_fine_with_plenty_of_data(bench):
    params = dict(dim=20, n_samples=400, noise=0.1, horizon=40)
    tbt = excess_risks(bench, TRAIN_SPLIT[:1], **params)
    tbv = excess_risks(bench, VALIDATION_SPLIT[:1], **params)
    assert tbt[0] == pytest.approx(tbv[0], rel=0.1)
    assert tbt[0] < 0.01
