"""Running mean/variance normalisation of vector observations (ML-Agents' ``normalize: true``)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["RunningNormalizer"]

CLIP = 5.0
EPSILON = 1e-5


class RunningNormalizer(nn.Module):
    """Normalises inputs with statistics of everything seen so far, clipped to [-clip, clip] (ML-Agents: 5);
    the statistics live in the state dict."""

    count: torch.Tensor
    running_mean: torch.Tensor
    running_var: torch.Tensor

    def __init__(self, size: int, clip: float = CLIP):
        super().__init__()
        self.clip = clip
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.register_buffer("running_mean", torch.zeros(size))
        self.register_buffer("running_var", torch.ones(size))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        normalized = (inputs - self.running_mean) / torch.sqrt(self.running_var + EPSILON)
        return torch.clamp(normalized, -self.clip, self.clip)

    @torch.no_grad()
    def update(self, inputs: torch.Tensor) -> None:
        """Merge the batch ``inputs`` [n, size] into the running statistics (Chan et al. parallel update)."""
        batch_count = inputs.shape[0]
        if batch_count == 0:
            return
        batch_mean = inputs.mean(dim=0)
        batch_var = inputs.var(dim=0, unbiased=False)
        total = self.count + batch_count
        delta = batch_mean - self.running_mean
        new_mean = self.running_mean + delta * (batch_count / total).float()
        m2 = self.running_var * self.count.float() + batch_var * batch_count
        m2 = m2 + delta.pow(2) * (self.count * batch_count / total).float()
        self.running_mean.copy_(new_mean)
        self.running_var.copy_(m2 / total.float())
        self.count.copy_(total)
