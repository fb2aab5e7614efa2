"""The one peak-memory probe: resident memory added by a block of code.

Linux only (``/proc/self/status``); elsewhere the figure is NaN. The
resident high-water mark ``VmHWM`` is reset to the current ``VmRSS``
(``/proc/self/clear_refs``, after returning freed heap to the system) when
the block starts and read when it ends, so the figure is the block's own
peak, tensors included (tracemalloc does not see torch's allocations).
A heap fragmented by earlier work makes it approximate: for a clean figure
run the block in a fresh process (:func:`peak_memory_mb`).
"""

import ctypes
import math
import os
from pathlib import Path
import re
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]


def _status_mb(key):
    text = Path("/proc/self/status").read_text()
    return int(re.search(key + r":\s+(\d+) kB", text).group(1)) / 1024


class PeakMemory:
    """``with PeakMemory() as mem: ...`` then ``mem.mb``: the peak resident
    memory added by the block, in MB (NaN where it cannot be measured)."""

    def __enter__(self):
        self.ok = Path("/proc/self/clear_refs").exists()
        if self.ok:
            try:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")          # reset VmHWM to VmRSS
            except OSError:
                self.ok = False
        self.base = _status_mb("VmRSS") if self.ok else math.nan
        return self

    def __exit__(self, *exc):
        self.mb = _status_mb("VmHWM") - self.base if self.ok else math.nan
        return False


def probe(setup, run):
    """Print the peak memory (MB) ``run()`` adds after ``setup()``: what
    the fresh process of :func:`peak_memory_mb` runs."""
    setup()
    with PeakMemory() as mem:
        run()
    print(mem.mb)


def peak_memory_mb(code):
    """Peak resident memory (MB) that ``run()`` adds after ``setup()``,
    both defined by the Python source ``code``, in a fresh process started
    from the repository root."""
    script = code + "\nfrom studies.memory import probe\nprobe(setup, run)\n"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True,
        text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return float(out.stdout.strip().splitlines()[-1])
