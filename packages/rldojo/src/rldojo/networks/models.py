"""Actor (policy network) and Critic (one value head per reward signal), each with an optional LSTM memory
after its encoder (``network_settings.memory``)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks.action_heads import ActionHead, ActionSample, PolicyDistribution
from rldojo.networks.encoders import ObservationEncoder
from rldojo.networks.memory import MemoryNetwork, optional_memory
from rldojo.networks.mlp_gradients import PlainMLP
from rldojo.settings import NetworkSettings

__all__ = ["Actor", "Critic", "orthogonal_init"]

BODY_GAIN = math.sqrt(2)
ACTION_GAIN = 0.01
VALUE_GAIN = 1.0
"""SB3's ``ortho_init`` gains: hidden layers, action outputs, value outputs."""


def orthogonal_init(module: nn.Module, gain: float) -> None:
    """Orthogonal weights scaled by ``gain`` and zero biases for every dense and convolution layer of
    ``module`` (SB3's ``ortho_init``)."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear | nn.Conv2d):
            nn.init.orthogonal_(layer.weight, gain)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


class Actor(MemoryNetwork):
    """Observations -> action distribution, for any ML-Agents behavior (vector/visual, any action spec).

    With memory, ``memories`` are each agent's memory before this step (zeros when None) and the sample
    carries the memories after it; batches for :meth:`evaluate` are sequences of ``sequence_length``.
    """

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.memory = optional_memory(self.encoder.output_size, settings)
        hidden_size = self.memory.output_size if self.memory is not None else self.encoder.output_size
        self.action_head = ActionHead(hidden_size, action_spec, settings.log_std_init)
        if settings.ortho_init:
            orthogonal_init(self.encoder, BODY_GAIN)
            orthogonal_init(self.action_head, ACTION_GAIN)

    def forward(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        deterministic: bool = False,
        memories: torch.Tensor | None = None,
    ) -> ActionSample:
        hidden, next_memories = self.remember(self.encoder(observations), memories)
        sample = self.action_head.sample(hidden, masks, deterministic)
        sample.memories = next_memories
        return sample

    def act(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = False
    ) -> ActionSample:
        """:meth:`forward` without memories, for acting: the same sample. A plain MLP with discrete actions
        only runs its dense layers and logits as plain tensor operations (:class:`PlainMLP`), without a module
        call per layer, which costs more than a small layer does on a few rows."""
        if self._acting_mlp is None:
            return self(observations, masks, deterministic)
        logits, _ = self._acting_mlp.forward(observations)
        return self.action_head.sample_from_logits(logits, masks, deterministic)

    @functools.cached_property
    def _acting_mlp(self) -> PlainMLP | None:
        head = self.action_head
        if type(self).forward is not Actor.forward:  # a subclass acts its own way
            return None
        if self.memory is not None or head.mean is not None or head.logits is None:
            return None
        return PlainMLP.of(self.encoder, head.logits)

    def distribution(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, sequence_length: int = 1
    ) -> PolicyDistribution:
        """A differentiable sample of the policy (what behavioral cloning fits to demonstrated actions); with
        memory, the rows are sequences of ``sequence_length``, each from zero memories."""
        hidden, _ = self.remember(self.encoder(observations), None, sequence_length)
        return self.action_head.distribution(hidden, masks)

    def evaluate(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        continuous: torch.Tensor,
        discrete: torch.Tensor,
        memories: torch.Tensor | None = None,
        sequence_length: int = 1,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities and entropy of stored actions under the current weights."""
        hidden, _ = self.remember(self.encoder(observations), memories, sequence_length)
        return self.action_head.evaluate(hidden, masks, continuous, discrete)

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)


class Critic(MemoryNetwork):
    """Value estimates, one head per reward signal; shares ``encoder`` with the actor when given one (its
    memory is always its own). ``settings`` are the critic's own
    (:meth:`~rldojo.settings.NetworkSettings.critic_settings`)."""

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
        self.memory = optional_memory(self.encoder.output_size, settings)
        self.stream_names = list(stream_names)
        hidden_size = self.memory.output_size if self.memory is not None else self.encoder.output_size
        self.value_heads = nn.Linear(hidden_size, len(self.stream_names))
        if settings.ortho_init:
            if not self.shares_encoder:  # a shared encoder is the actor's, initialised with it
                orthogonal_init(self.encoder, BODY_GAIN)
            orthogonal_init(self.value_heads, VALUE_GAIN)

    def forward(self, observations: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        """Values per reward signal (with memory: each row from zero memories; see
        :meth:`values_and_memories`)."""
        return self.values_and_memories(observations)[0]

    def values_and_memories(
        self,
        observations: Sequence[torch.Tensor],
        memories: torch.Tensor | None = None,
        sequence_length: int = 1,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """Values per reward signal and, with memory, the memories after each sequence."""
        hidden, next_memories = self.remember(self.encoder(observations), memories, sequence_length)
        values = self.value_heads(hidden)
        return {name: values[:, index] for index, name in enumerate(self.stream_names)}, next_memories

    def stream_parameters(self) -> list[tuple[torch.Tensor, int]]:
        """The value heads' weight and bias, one row per signal (:class:`~rldojo.networks.StreamHeads`)."""
        return [(self.value_heads.weight, 0), (self.value_heads.bias, 0)]

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        if not self.shares_encoder:
            self.encoder.update_normalization(observations)
