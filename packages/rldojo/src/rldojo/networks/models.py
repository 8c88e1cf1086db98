"""Actor (policy network) and Critic (one value head per reward signal)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks.action_heads import ActionHead, ActionSample, PolicyDistribution
from rldojo.networks.encoders import ObservationEncoder
from rldojo.settings import NetworkSettings

__all__ = ["Actor", "Critic"]


class Actor(nn.Module):
    """Observations -> action distribution, for any ML-Agents behavior (vector/visual, any action spec)."""

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.action_head = ActionHead(self.encoder.output_size, action_spec)

    def forward(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = False
    ) -> ActionSample:
        return self.action_head.sample(self.encoder(observations), masks, deterministic)

    def distribution(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None
    ) -> PolicyDistribution:
        """A differentiable sample of the policy (what behavioral cloning fits to demonstrated actions)."""
        return self.action_head.distribution(self.encoder(observations), masks)

    def evaluate(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        continuous: torch.Tensor,
        discrete: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities and entropy of stored actions under the current weights."""
        return self.action_head.evaluate(self.encoder(observations), masks, continuous, discrete)

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)


class Critic(nn.Module):
    """Value estimates, one head per reward signal; shares ``encoder`` with the actor when given one."""

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        encoder: ObservationEncoder | None = None,
    ):
        super().__init__()
        self.shares_encoder = encoder is not None
        self.encoder = encoder if encoder is not None else ObservationEncoder(observation_specs, settings)
        self.stream_names = list(stream_names)
        self.value_heads = nn.Linear(self.encoder.output_size, len(self.stream_names))

    def forward(self, observations: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        values = self.value_heads(self.encoder(observations))
        return {name: values[:, index] for index, name in enumerate(self.stream_names)}

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        if not self.shares_encoder:
            self.encoder.update_normalization(observations)
