"""A progress bar for long work: which step runs, how far the whole is and
an estimate of the time left (tqdm, on stderr).

Work is a sequence of steps with weights (their expected share of the
time: seconds measured by an earlier run, inner-gradient evaluations, or
1 each). ``step(name, expected_seconds)`` runs one step in a ``with``
block; while it runs, the bar advances with the clock up to the step's
weight (when its expected duration is known), so the estimate of the time
left stays current inside a long step, and it jumps to the step's end
when the step finishes. ``advance(weight)`` counts a finished piece of
work.

Quiet where stderr is not a terminal (a log file, CI, the tests): no bar,
and ``write`` prints its message to stdout as before.
"""

from contextlib import contextmanager
import sys
import threading
import time


class Progress:
    """``with Progress(total, "reproduce") as bar: ...``.

    ``total`` (> 0) is the sum of the weights; ``enabled`` None means
    "stderr is a terminal". A bar needs ``tqdm`` (the ``reproduce`` extra);
    without it the work runs with no bar.
    """

    TICK = 0.5        # seconds between the clock's advances inside a step

    def __init__(self, total, desc, unit="", enabled=None):
        if not total > 0:
            raise ValueError(f"total must be > 0, got {total!r}")
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self.bar = tqdm(total=total, desc=desc, unit=unit,
                                file=sys.stderr, dynamic_ncols=True,
                                bar_format="{desc}: {percentage:3.0f}%|"
                                "{bar}| [{elapsed}<{remaining}]")
        self.desc = desc
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def advance(self, weight):
        """Count ``weight`` of finished work."""
        if self.bar is not None:
            with self._lock:
                self.bar.update(weight)

    def describe(self, name):
        """Say which part of the work runs now."""
        if self.bar is not None:
            self.bar.set_description_str(f"{self.desc}: {name}")

    def write(self, message):
        """Print a line (above the bar, if there is one)."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stdout)
        else:
            print(message, flush=True)

    @contextmanager
    def step(self, name, expected_seconds=None, weight=None):
        """Run one step named ``name``, of weight ``weight`` (default: its
        ``expected_seconds``, or 1 if they are not known); with expected
        seconds, the bar moves ``weight / expected_seconds`` a second
        inside it, stopping short of the step's end."""
        if weight is None:
            weight = expected_seconds or 1
        if self.bar is None:
            yield
            return
        self.describe(name)
        if not expected_seconds:
            try:
                yield
            finally:
                self.advance(weight)
            return
        rate = weight / expected_seconds
        done, stop = [0.0], threading.Event()

        def tick():
            start = time.monotonic()
            while not stop.wait(self.TICK):
                target = min(0.99 * weight,
                             rate * (time.monotonic() - start))
                if target > done[0]:
                    self.advance(target - done[0])
                    done[0] = target

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
            self.advance(weight - done[0])
