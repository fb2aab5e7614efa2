"""The generalization study end to end at toy sizes: ``python -m
studies.l2o_generalization --quick`` runs benchopt, and its table, budgets
and figure come out of the parquet table with every solver and suite."""

import pandas as pd
import pytest

from studies import l2o_generalization

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("l2o")
    scores, budgets = l2o_generalization.main(["--quick", "--out", str(out)])
    return out, scores, budgets


def test_every_solver_is_scored_on_every_suite_it_could_build(study):
    out, scores, _ = study
    assert set(scores["suite"]) == {"in_distribution", "wider"}
    assert set(scores["loss"]) == {"test", "train"}
    assert scores.groupby(["solver", "loss"]).size().eq(2).all()
    assert {s.split("[")[0] for s in scores["solver"]} == {
        "adam", "neural-optimizer", "lstm-optimizer", "learnable-adam"}
    assert (scores["low"] <= scores["iqm"]).all()
    assert (scores["iqm"] <= scores["high"]).all()
    assert (scores["n_runs"] == 2).all()
    text = (out / "table.md").read_text()
    assert "Skipped suites: mnist" in text        # no MNIST offline
    assert (out / "score_per_suite.png").stat().st_size > 1000
    assert len(pd.read_csv(out / "scores.csv")) == len(scores)


def test_tuned_adam_scores_at_most_one_in_distribution(study):
    _, scores, _ = study
    adam = scores[(scores["solver"] == "adam")
                  & (scores["suite"] == "in_distribution")]
    assert (adam["iqm"] <= 1.0 + 1e-12).all()


def test_budgets_are_stated_for_every_solver(study):
    _, _, budgets = study
    assert len(budgets) == 4
    assert (budgets["inner_gradient_evaluations"] > 0).all()
    assert (budgets["seconds"] > 0).all()
    learned = budgets[budgets["solver"] != "adam"]
    assert (learned["meta_steps"] >= 2).all()
