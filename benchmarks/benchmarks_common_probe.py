"""Run in a child process by ``common.peak_memory_mb``."""


def _status_kb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def probe(setup, run):
    """Print the extra resident high-water mark (MB) of ``run()``."""
    setup()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                    # reset VmHWM to the current RSS
    before = _status_kb("VmRSS")
    run()
    print((_status_kb("VmHWM") - before) / 1024)
