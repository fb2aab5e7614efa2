"""benchopt's own test suite on this benchmark (no conda: --skip-install)."""

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def test_benchopt_suite_passes():
    # -p no:benchmark: the pytest-benchmark plugin, if installed, shadows
    # benchopt's `benchmark` fixture
    proc = subprocess.run(
        [sys.executable, "-m", "benchopt", "test", str(ROOT),
         "--skip-install", "-p", "no:benchmark"],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout
