"""Keep freed memory in the process: glibc's allocator settings for the
CPU paths.

On the CPU, PyTorch takes a tensor's memory from the C library's
``malloc``. glibc serves a block above its *mmap threshold* with fresh
pages from the kernel and gives it back on ``free``, and trims the top of
its heap back to the kernel once more than the *trim threshold* is free.
The learned optimizers' per-coordinate work makes and frees tensors of a
few megabytes at every inner step (on the digits MLP tasks, (4, 8730, 32)
float32: 4.5 MB), so every such tensor was fresh pages, each page faulted
in on first touch: measured on one core, a ReLU over one of them took
0.88 ms into a fresh tensor and 0.10 ms into a reused one, and 100
evaluation steps of the neural optimizer took 2.1 s, against 0.85 s with
the memory kept (``benchmarks/allocator.py`` prints both, side by side).

:func:`keep_freed_memory` raises both thresholds (``mallopt``), so that
freed blocks of up to ``MMAP_THRESHOLD`` are reused by the next
allocation instead of returned; the process's peak memory is unchanged
(what it holds at most is what it used at most). It runs when
``benchmark_utils`` is imported, once per process; it does nothing where
the C library is not glibc, where the user set glibc's own
``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` (theirs win), or
where ``BENCHMARK_KEEP_FREED_MEMORY=0``.
"""

import ctypes
import os

#: blocks up to this size come from (and go back to) the process's heap
MMAP_THRESHOLD = 32 * 2 ** 20       # glibc's own cap for this setting
#: free memory kept at the top of the heap before any is returned
TRIM_THRESHOLD = 2 ** 30

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3       # <malloc.h>
_GLIBC_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")

_applied = None


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds for this process (see the
    module docstring). Returns True where they were set, False where this
    left the allocator as it was; the decision is taken once."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("BENCHMARK_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in _GLIBC_VARIABLES):
        return False
    try:            # the C library this process already runs on
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):          # not glibc: no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _applied = bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                    and mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return _applied
