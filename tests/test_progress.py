"""Progress of long work: a bar on a terminal, quiet elsewhere; the
estimator comparison's planned steps match the lines it logs."""

import io
import json
import sys

import pytest

from studies import estimator_comparison
from reproduce.__main__ import previous_seconds
from reproduce.progress import Progress


def test_quiet_when_stderr_is_not_a_terminal(capsys):
    with Progress(3, "work") as bar:        # pytest's stderr: not a tty
        assert bar.bar is None
        with bar.step("a", expected_seconds=2):
            bar.write("a: done")
        bar.advance(1)
    out, err = capsys.readouterr()
    assert out == "a: done\n" and err == ""


def test_bar_says_which_step_runs_and_reaches_the_total(monkeypatch):
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(Progress, "TICK", 0.01)
    with Progress(10, "work", enabled=True) as bar:
        with bar.step("first", expected_seconds=4):
            pass
        with bar.step("second", expected_seconds=6):
            assert bar.bar.n < 10             # the clock stops short
        assert bar.bar.n == pytest.approx(10)
    text = stream.getvalue()
    assert "work: first" in text and "work: second" in text
    assert "100%" in text


def test_bad_total():
    with pytest.raises(ValueError, match="total"):
        Progress(0, "work")


def test_time_left_comes_from_the_last_run_in_the_same_mode(tmp_path):
    path = tmp_path / "timings.json"
    assert previous_seconds(path, True, ["a"]) == {}
    path.write_text(json.dumps(dict(quick=True, seconds={"a": 2, "b": 3})))
    assert previous_seconds(path, True, ["a", "b"]) == {"a": 2.0, "b": 3.0}
    assert previous_seconds(path, False, ["a", "b"]) == {}
    assert previous_seconds(path, True, ["a", "c"]) == {}


def test_planned_work_matches_the_logged_lines():
    lines = []
    estimator_comparison.compare(quick=True, log=lines.append)
    estimator_comparison.meta_training(quick=True, log=lines.append)
    weights = estimator_comparison.planned_work(quick=True)
    assert len(weights) == len(lines) and min(weights) > 0
