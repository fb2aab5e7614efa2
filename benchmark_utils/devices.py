"""Where tensors live: the run's ``device`` (the objective's parameter) and
the ``device`` override of solvers.

One choice places a whole run: ``benchopt run . -o
"meta-optimization[device=cuda]"`` puts the meta-train tasks every solver
receives, the meta-training and the meta-test evaluation on that device
(``"auto"``, the default: CUDA when present, else the CPU). The exact
float64 paths of linear tasks (their spectra, the closed form of gradient
descent, the ``stable`` meta-gradient, eta*) are computed on the CPU
whatever the device: they run once per task batch and Dekker's exact
products must not be contracted into fused multiply-adds.
"""

import torch

from .validation import check_choice

DEVICES = ("auto", "cpu", "cuda")


def check_device(name, parameter="device"):
    """``name`` if it is one of :data:`DEVICES`, else ValueError."""
    return check_choice(parameter, name, DEVICES)


def resolve_device(name):
    """``"auto"`` = CUDA when available, else the CPU; ``"cuda"`` without
    a GPU raises (a solver's ``skip`` turns that into a skip reason)."""
    check_choice("device", name, DEVICES)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' but no CUDA device is available")
    return torch.device(name)


def device_unavailable(name):
    """The reason ``name`` cannot be used here, or None."""
    try:
        resolve_device(name)
    except RuntimeError as err:
        return str(err)
    return None


def solver_device(name, tasks_device):
    """Where a solver with ``device=name`` runs: ``"auto"`` follows its
    tasks (the run's device), ``"cpu"``/``"cuda"`` override it."""
    if name == "auto":
        return torch.device(tasks_device)
    return resolve_device(name)


def synchronize(device):
    """Wait for the work queued on ``device`` (CUDA runs asynchronously):
    call before reading a clock. A no-op on the CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
