"""The ``rnd`` reward signal: random network distillation (Burda et al. 2018,
https://arxiv.org/abs/1810.12894) with ML-Agents' loss and defaults.

A predictor network learns to reproduce the output of a fixed, randomly initialised network of the same
shape; the reward is its error, which stays high on observations it has rarely been trained on.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.adam import Adam
from rldojo.buffer import observations
from rldojo.networks import ObservationEncoder
from rldojo.reward_signals.base import RewardSignal, SignalStats
from rldojo.reward_signals.settings import RNDSettings

__all__ = ["RNDRewardSignal"]


class RNDRewardSignal(RewardSignal[RNDSettings]):
    """Rewards the predictor's squared error against the random target network."""

    ignore_done = True

    def __init__(self, name: str, settings: RNDSettings, behavior_spec: BehaviorSpec, device: torch.device):
        super().__init__(name, settings, behavior_spec, device)
        specs, network = behavior_spec.observation_specs, settings.network_settings
        self.num_obs = len(specs)
        self.target = ObservationEncoder(specs, network).to(device).requires_grad_(False)
        self.predictor = ObservationEncoder(specs, network).to(device)
        self.optimizer = Adam(self.predictor.parameters(), lr=settings.learning_rate)

    def errors(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[batch] squared distance between the predictor's and the target's outputs."""
        obs = observations(batch, self.num_obs)
        return ((self.predictor(obs) - self.target(obs)) ** 2).sum(dim=1)

    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return self.errors(batch)

    def update(self, batch: Mapping[str, torch.Tensor]) -> SignalStats:
        obs = observations(batch, self.num_obs)
        self.predictor.update_normalization(obs)
        self.target.update_normalization(obs)
        loss = self.errors(batch).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {"Losses/RND Loss": loss.detach()}

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"predictor": self.predictor, "target": self.target, "optimizer": self.optimizer}
