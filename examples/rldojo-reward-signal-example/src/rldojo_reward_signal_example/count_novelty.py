"""``count_novelty``: reward 1 / sqrt(visits) of the observation's SimHash bucket."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.reward_signals import RewardSignal
from rldojo_reward_signal_example.settings import CountNoveltySettings


class BucketCounts(nn.Module):
    """A fixed random projection hashing observations to buckets, and the visits of each bucket. Both are
    buffers, so the module's state dict (and so a checkpoint) holds them."""

    def __init__(self, observation_size: int, hash_bits: int):
        super().__init__()
        self.register_buffer("projection", torch.randn(observation_size, hash_bits))
        self.register_buffer("bit_values", 2 ** torch.arange(hash_bits))
        self.register_buffer("counts", torch.zeros(2**hash_bits))

    def buckets(self, observations: torch.Tensor) -> torch.Tensor:
        """[batch] bucket of each flattened observation: the signs of its projection, read as bits."""
        bits = (observations @ self.projection > 0).long()
        return (bits * self.bit_values).sum(dim=1)


class CountNoveltySignal(RewardSignal[CountNoveltySettings]):
    """Count-based novelty: high for observations seldom seen, shrinking as they are trained on."""

    ignore_done = True  # novelty does not end with the episode

    def __init__(
        self, name: str, settings: CountNoveltySettings, behavior_spec: BehaviorSpec, device: torch.device
    ):
        super().__init__(name, settings, behavior_spec, device)
        self.num_obs = len(behavior_spec.observation_specs)
        size = sum(math.prod(spec.shape) for spec in behavior_spec.observation_specs)
        self.counts = BucketCounts(size, settings.hash_bits).to(device)

    def _buckets(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        observations = [batch[f"obs_{i}"].flatten(start_dim=1) for i in range(self.num_obs)]
        return self.counts.buckets(torch.cat(observations, dim=1))

    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.counts.counts[self._buckets(batch)].clamp(min=1.0).rsqrt()

    def update(self, batch: Mapping[str, torch.Tensor]) -> dict[str, float]:
        buckets = self._buckets(batch)
        self.counts.counts.index_add_(0, buckets, torch.ones_like(buckets, dtype=torch.float32))
        return {"Policy/Count Novelty Buckets Visited": float((self.counts.counts > 0).sum())}

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"counts": self.counts}
