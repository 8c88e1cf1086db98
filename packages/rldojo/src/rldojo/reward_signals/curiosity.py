"""The ``curiosity`` reward signal: an intrinsic curiosity module (Pathak et al. 2017,
https://arxiv.org/abs/1705.05363) with ML-Agents' losses and defaults.

A state encoder is trained by two models: the inverse model predicts the action from the encodings of a
state and the next, the forward model predicts the next encoding from a state's encoding and the action.
The reward is the forward model's error: high where the agent cannot yet predict what its action does.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from mlagents_envs.base_env import ActionSpec, BehaviorSpec
from torch import nn

from rldojo.adam import Adam
from rldojo.buffer import next_obs_key, observations
from rldojo.networks import ObservationEncoder, clip_continuous
from rldojo.networks.encoders import dense_stack
from rldojo.reward_signals.base import RewardSignal, SignalStats
from rldojo.reward_signals.settings import CuriositySettings

__all__ = ["CuriosityNetwork", "CuriosityRewardSignal"]

MODEL_HIDDEN_UNITS = 256
"""Width of the inverse and forward models' hidden layer (ML-Agents')."""
FORWARD_LOSS_WEIGHT = 0.2
"""beta of the paper: the forward loss's share of the total, the inverse loss has the rest."""
LOSS_SCALE = 10.0
LOG_EPSILON = 1e-10


class CuriosityNetwork(nn.Module):
    """State encoder, inverse model and forward model."""

    has_updated: torch.Tensor

    def __init__(self, behavior_spec: BehaviorSpec, settings: CuriositySettings):
        super().__init__()
        action_spec: ActionSpec = behavior_spec.action_spec
        self.num_obs = len(behavior_spec.observation_specs)
        self.branch_sizes = [int(size) for size in action_spec.discrete_branches]
        self.continuous_size = action_spec.continuous_size
        self.encoder = ObservationEncoder(behavior_spec.observation_specs, settings.network_settings)
        encoding = self.encoder.output_size
        self.inverse_model = nn.Sequential(
            dense_stack(2 * encoding, MODEL_HIDDEN_UNITS, 1),
            nn.Linear(MODEL_HIDDEN_UNITS, self.continuous_size + sum(self.branch_sizes)),
        )
        action_size = self.continuous_size + sum(self.branch_sizes)
        self.forward_model = nn.Sequential(
            dense_stack(encoding + action_size, MODEL_HIDDEN_UNITS, 1),
            nn.Linear(MODEL_HIDDEN_UNITS, encoding),
        )
        self.register_buffer("has_updated", torch.tensor(False))
        """Rewards are 0 until the first update: an untrained forward model's errors mean nothing."""

    def actions(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[batch, continuous_size + sum(branch sizes)]: the continuous actions the environment received
        and each branch's action one-hot."""
        parts = [clip_continuous(batch["continuous_actions"])]
        discrete = batch["discrete_actions"].long()
        parts += [
            nn.functional.one_hot(discrete[:, i], size).float() for i, size in enumerate(self.branch_sizes)
        ]
        return torch.cat(parts, dim=1)

    def encode(self, batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Encodings of the states and of the next states."""
        states = self.encoder(observations(batch, self.num_obs))
        next_states = self.encoder(observations(batch, self.num_obs, next_obs_key))
        return states, next_states

    def forward_errors(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """[batch] half the squared error of the predicted next encoding (the reward, before clipping)."""
        states, next_states = self.encode(batch)
        predicted = self.forward_model(torch.cat([states, self.actions(batch)], dim=1))
        return 0.5 * ((predicted - next_states) ** 2).sum(dim=1)

    def inverse_loss(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Squared error of the predicted continuous actions plus cross-entropy of each branch's."""
        states, next_states = self.encode(batch)
        predicted = self.inverse_model(torch.cat([states, next_states], dim=1))
        continuous, logits = predicted.split([self.continuous_size, sum(self.branch_sizes)], dim=1)
        loss = predicted.new_zeros(())
        if self.continuous_size:
            loss = loss + ((continuous - clip_continuous(batch["continuous_actions"])) ** 2).sum(dim=1).mean()
        discrete = batch["discrete_actions"].long()
        for i, branch in enumerate(logits.split(self.branch_sizes, dim=1)):
            probabilities = torch.softmax(branch, dim=1)
            chosen = probabilities.gather(1, discrete[:, i : i + 1]).squeeze(1)
            loss = loss - torch.log(chosen + LOG_EPSILON).mean()
        return loss


class CuriosityRewardSignal(RewardSignal[CuriositySettings]):
    """Rewards the forward model's error, capped so that ``strength`` times it is at most 1."""

    ignore_done = True

    def __init__(
        self, name: str, settings: CuriositySettings, behavior_spec: BehaviorSpec, device: torch.device
    ):
        super().__init__(name, settings, behavior_spec, device)
        self.network = CuriosityNetwork(behavior_spec, settings).to(device)
        self.optimizer = Adam(self.network.parameters(), lr=settings.learning_rate)

    def rewards(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        errors = self.network.forward_errors(batch).clamp(max=1.0 / self.strength)
        return errors * self.network.has_updated

    def update(self, batch: Mapping[str, torch.Tensor]) -> SignalStats:
        self.network.encoder.update_normalization(observations(batch, self.network.num_obs))
        forward_loss = self.network.forward_errors(batch).mean()
        inverse_loss = self.network.inverse_loss(batch)
        loss = LOSS_SCALE * (FORWARD_LOSS_WEIGHT * forward_loss + (1.0 - FORWARD_LOSS_WEIGHT) * inverse_loss)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.network.has_updated.fill_(True)
        return {
            "Losses/Curiosity Forward Loss": forward_loss.detach(),
            "Losses/Curiosity Inverse Loss": inverse_loss.detach(),
        }

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"network": self.network, "optimizer": self.optimizer}
