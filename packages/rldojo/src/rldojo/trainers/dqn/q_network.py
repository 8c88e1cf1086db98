"""The Q-network: observations -> one Q-value per action of every discrete branch."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks import ObservationEncoder, PlainMLP
from rldojo.settings import NetworkSettings

__all__ = ["QNetwork"]


class QNetwork(nn.Module):
    """Observations -> Q-values [batch, sum(branch sizes)]; each branch is its own action dimension.
    A :class:`~rldojo.value_based_policy.ValueBasedPolicy` acts with it."""

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.q_head = nn.Linear(self.encoder.output_size, sum(self.branch_sizes))

    def forward(self, observations: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.q_head(self.encoder(observations))

    def acting_forward(self) -> Callable[[Sequence[torch.Tensor]], torch.Tensor]:
        """:meth:`forward` for acting: the same values, by :meth:`~rldojo.networks.PlainMLP.output` when the
        network is a plain MLP (no module call per layer, which costs more than a small layer does on a
        batch of one)."""
        plain = PlainMLP.of(self.encoder, self.q_head)
        return self if plain is None else plain.output

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)
