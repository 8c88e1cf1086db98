"""Side work that must not change what a run learns: its random draws come from copies of the run's
random streams, which are put back afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

__all__ = ["training_streams_untouched"]


@contextlib.contextmanager
def training_streams_untouched() -> Iterator[None]:
    """torch's CPU and CUDA generators and numpy's global one are as they were when the block ends, so an
    evaluation or an ONNX export (both sample actions) leaves training's random stream alone."""
    cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    numpy_state = np.random.get_state()
    with torch.random.fork_rng(devices=cuda_devices):
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
