"""The reproduction's command line: ``--jobs`` runs benchopt's runs side
by side (``-j``), one thread each, and a bad value is refused before
anything runs."""

import subprocess

import pytest

from reproduce import studies
from reproduce.__main__ import main


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_below_one_is_refused_naming_the_option(jobs, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--quick", "--out", str(tmp_path), "--jobs", jobs])
    assert exc.value.code == 2
    assert "--jobs must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "timings.json").exists()


def _study(name):
    (study,) = [s for s in studies.STUDIES if s.name == name]
    return study


def _command(monkeypatch, tmp_path, name, quick, jobs):
    """The command and environment ``run_study`` hands to benchopt."""
    seen = {}

    def fake_run(command, **kwargs):
        seen.update(command=command, env=kwargs["env"])
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(studies.subprocess, "run", fake_run)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    studies.run_study(_study(name), tmp_path, quick=quick, log=lambda *a: None,
                      jobs=jobs)
    command, env = seen["command"], seen["env"]
    assert env["BENCHOPT_RAISE_ON_ERROR"] == "true"
    return int(command[command.index("-j") + 1]), env


@pytest.mark.parametrize("name, quick, jobs, expected", [
    ("paper_mlp", True, 2, 2),      # long quick runs: side by side
    ("paper_fig1", True, 2, 1),     # quick runs shorter than a start
    ("paper_fig1", False, 2, 2),    # every full run
    ("paper_mlp", False, 1, 1),
])
def test_jobs_reach_benchopt_with_one_thread_per_run(
        monkeypatch, tmp_path, name, quick, jobs, expected):
    used, env = _command(monkeypatch, tmp_path, name, quick, jobs)
    assert used == expected
    assert env.get("OMP_NUM_THREADS") == ("1" if expected > 1 else None)


def test_default_jobs_fit_the_machine(monkeypatch):
    monkeypatch.setattr(studies.os, "cpu_count", lambda: 1)
    assert studies.default_jobs() == 1
    monkeypatch.setattr(studies.os, "cpu_count", lambda: 16)
    assert studies.default_jobs() == 2


def test_full_config_meta_trains_with_the_papers_recipe():
    """configs/paper_mlp.yml (the full size) and its quick variant
    meta-train the neural optimizer with the same recipe."""
    for quick in (False, True):
        config = studies.study_config(_study("paper_mlp"), quick)
        (neural,) = [s["neural-optimizer"] for s in config["solver"]
                     if isinstance(s, dict) and "neural-optimizer" in s]
        for key, value in studies.PAPER_MLP_RECIPE.items():
            assert neural[key] == value, (quick, key)
