"""POCA's centralized critic: self-attention over the members of an agent's group.

Each member is an entity: its observations through the critic's encoder (and, for the counterfactual
baseline, the groupmates' actions too), one residual self-attention layer over the entities with absent
members masked out, a mean over the present ones, then the value heads. ``value`` sees every member's
observations; ``baseline`` sees the agent's own observations and its groupmates' observations and actions,
so it estimates the group's return with the agent's own action marginalised out. With
``network_settings.memory`` an LSTM follows the pooled group encoding; value and baseline run through it
with memories of their own (as in ML-Agents).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn
from torch.nn import functional

from rldojo.networks import Critic, clip_continuous
from rldojo.networks.encoders import dense_stack
from rldojo.settings import NetworkSettings

__all__ = ["GroupCritic", "Groupmates"]

ATTENTION_HEADS = 4
MEMBER_COUNT_SCALE = 10.0
"""The number of members present enters the critic divided by this (groups are rarely larger)."""


@dataclass
class Groupmates:
    """The groupmates of a batch of agents, padded to M slots."""

    obs: list[torch.Tensor]  # per observation: [B, M, *shape]
    continuous: torch.Tensor  # [B, M, continuous_size], unclipped
    discrete: torch.Tensor  # [B, M, num_branches]
    present: torch.Tensor  # [B, M], 1 where a groupmate fills the slot

    def rows(self, rows: slice) -> Groupmates:
        """The groupmates of some ``rows`` of the batch."""
        return Groupmates(
            [obs[rows] for obs in self.obs], self.continuous[rows], self.discrete[rows], self.present[rows]
        )


class GroupCritic(Critic):
    """Value and counterfactual baseline of an agent in its group, one head per reward signal.

    Called like a :class:`~rldojo.networks.Critic` (without groupmates it is the value of a group of one).
    """

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        action_spec: ActionSpec,
    ):
        super().__init__(stream_names, observation_specs, settings)
        hidden = self.encoder.output_size
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        action_size = action_spec.continuous_size + sum(self.branch_sizes)
        self.observation_entity = nn.Linear(hidden, hidden)
        self.observation_action_entity = nn.Linear(hidden + action_size, hidden)
        heads = ATTENTION_HEADS if hidden % ATTENTION_HEADS == 0 else 1
        self.attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        self.attention_norm = nn.LayerNorm(hidden)
        self.pooled_body = dense_stack(hidden + 1, hidden, 1, settings.activation)

    def forward(
        self, observations: Sequence[torch.Tensor], mates: Groupmates | None = None
    ) -> dict[str, torch.Tensor]:
        """The value of the group's state (with memory: each row from zero memories; see
        :meth:`values_and_memories`)."""
        return self.values_and_memories(observations, mates=mates)[0]

    def values_and_memories(
        self,
        observations: Sequence[torch.Tensor],
        memories: torch.Tensor | None = None,
        sequence_length: int = 1,
        mates: Groupmates | None = None,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The value of the group's state: attention over the agent's and its groupmates' observations; with
        memory, the value memories after each sequence too."""
        own = self.observation_entity(self.encoder(observations)).unsqueeze(1)
        if mates is None:
            return self._pooled_values(own, own.new_ones(own.shape[:2]), memories, sequence_length)
        others = self.observation_entity(self._encode_mates(mates))
        entities = torch.cat([own, others], dim=1)
        return self._pooled_values(entities, self._present(own, mates), memories, sequence_length)

    def baseline(self, observations: Sequence[torch.Tensor], mates: Groupmates) -> dict[str, torch.Tensor]:
        """The agent's counterfactual baseline (with memory: each row from zero memories; see
        :meth:`baseline_and_memories`)."""
        return self.baseline_and_memories(observations, mates)[0]

    def baseline_and_memories(
        self,
        observations: Sequence[torch.Tensor],
        mates: Groupmates,
        memories: torch.Tensor | None = None,
        sequence_length: int = 1,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """The agent's counterfactual baseline: its own observations, its groupmates' observations and
        actions; with memory, the baseline memories after each sequence too (the LSTM is the value's, its
        memories are the baseline's own)."""
        own = self.observation_entity(self.encoder(observations)).unsqueeze(1)
        others = self.observation_action_entity(
            torch.cat([self._encode_mates(mates), self._encode_actions(mates)], dim=2)
        )
        entities = torch.cat([own, others], dim=1)
        return self._pooled_values(entities, self._present(own, mates), memories, sequence_length)

    @staticmethod
    def _present(own: torch.Tensor, mates: Groupmates) -> torch.Tensor:
        return torch.cat([own.new_ones(own.shape[0], 1), mates.present.to(own.dtype)], dim=1)

    def _encode_mates(self, mates: Groupmates) -> torch.Tensor:
        """[B, M, hidden]: every groupmate slot through the encoder."""
        batch, slots = mates.present.shape
        flat = [obs.reshape(batch * slots, *obs.shape[2:]) for obs in mates.obs]
        return self.encoder(flat).reshape(batch, slots, self.encoder.output_size)

    def _encode_actions(self, mates: Groupmates) -> torch.Tensor:
        """[B, M, action_size]: continuous actions as the env received them, discrete ones one-hot."""
        parts = [clip_continuous(mates.continuous)]
        for branch, size in enumerate(self.branch_sizes):
            parts.append(
                functional.one_hot(mates.discrete[..., branch].long(), size).to(mates.continuous.dtype)
            )
        return torch.cat(parts, dim=2)

    def _pooled_values(
        self,
        entities: torch.Tensor,
        present: torch.Tensor,
        memories: torch.Tensor | None,
        sequence_length: int,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """Residual self-attention over ``entities`` [B, N, hidden] (absent ones masked), mean over the
        present ones with their count, through the memory (if any) from ``memories``, then the value
        heads."""
        attended, _ = self.attention(
            entities, entities, entities, key_padding_mask=present < 0.5, need_weights=False
        )
        encoded = self.attention_norm(entities + attended)
        weights = present.unsqueeze(2)
        count = weights.sum(dim=1)
        pooled = (encoded * weights).sum(dim=1) / count
        hidden = self.pooled_body(torch.cat([pooled, count / MEMBER_COUNT_SCALE], dim=1))
        hidden, next_memories = self.remember(hidden, memories, sequence_length)
        values = self.value_heads(hidden)
        return {name: values[:, index] for index, name in enumerate(self.stream_names)}, next_memories
