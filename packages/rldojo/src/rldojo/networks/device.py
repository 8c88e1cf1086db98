"""The torch device of the current run: set once by ``run_training``, read when policies are created.

Resolution of ``auto|cpu|cuda[:n]`` is ``TorchSettings.resolve_device``; this only carries the result
to trainer plugins, whose constructor signature (ML-Agents') has no device argument.
"""

from __future__ import annotations

import torch

__all__ = ["default_device", "set_default_device"]

_device = torch.device("cpu")


def set_default_device(device: torch.device | str) -> None:
    global _device
    _device = torch.device(device)


def default_device() -> torch.device:
    """Where new networks and their batches go."""
    return _device
