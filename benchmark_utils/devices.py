"""Where tensors live: the ``device`` parameter of solvers."""

import torch

from .validation import check_choice

DEVICES = ("auto", "cpu", "cuda")


def check_device(name):
    """``name`` if it is one of :data:`DEVICES`, else ValueError."""
    return check_choice("device", name, DEVICES)


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
