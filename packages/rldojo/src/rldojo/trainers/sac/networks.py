"""SAC networks: a tanh-squashed Gaussian / masked categorical actor and twin action-value networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks import ActionSample, MemoryNetwork, ObservationEncoder, PolicyDistribution
from rldojo.networks.action_heads import CONTINUOUS_CLIP, HALF_LOG_2PI, MASKED_LOGIT
from rldojo.networks.memory import optional_memory
from rldojo.settings import NetworkSettings

__all__ = ["ActionValueNetwork", "PolicyDistribution", "SACActor", "TwinQNetworks"]

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
SQUASH_EPSILON = 1e-6


class SACActor(MemoryNetwork):
    """Observations -> policy. Continuous actions are tanh(Gaussian) with a state-dependent std; each
    discrete branch is a categorical over its allowed actions.

    Called like :class:`~rldojo.networks.Actor` so a :class:`~rldojo.policy.Policy` can act with it: its
    continuous output is ``CONTINUOUS_CLIP * tanh(u)``, which the policy's clip maps back to ``tanh(u)``.
    With ``network_settings.memory`` an LSTM follows the encoder (see :class:`~rldojo.networks.Actor`).
    """

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.continuous_size = action_spec.continuous_size
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.memory = optional_memory(self.encoder.output_size, settings)
        hidden = self.memory.output_size if self.memory is not None else self.encoder.output_size
        self.gaussian = nn.Linear(hidden, 2 * self.continuous_size) if self.continuous_size else None
        self.logits = nn.Linear(hidden, sum(self.branch_sizes)) if self.branch_sizes else None

    def distribution(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        deterministic: bool = False,
        memories: torch.Tensor | None = None,
        sequence_length: int = 1,
    ) -> PolicyDistribution:
        """A squashed continuous sample (the mean if ``deterministic``) and each branch's log-probs."""
        hidden, next_memories = self.remember(self.encoder(observations), memories, sequence_length)
        batch = hidden.shape[0]
        continuous = log_probs = hidden.new_zeros(batch, 0)
        if self.gaussian is not None:
            mean, log_std = self.gaussian(hidden).chunk(2, dim=1)
            log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
            noise = torch.zeros_like(mean) if deterministic else torch.randn_like(mean)
            unsquashed = mean + noise * log_std.exp()
            continuous = torch.tanh(unsquashed)
            gaussian_log_probs = -0.5 * noise**2 - log_std - HALF_LOG_2PI
            log_probs = gaussian_log_probs - torch.log(1.0 - continuous**2 + SQUASH_EPSILON)
        branches: list[torch.Tensor] = []
        if self.logits is not None:
            logits = self.logits(hidden)
            if masks is not None:
                logits = logits.masked_fill(masks < 0.5, MASKED_LOGIT)
            branches = [torch.log_softmax(b, dim=1) for b in torch.split(logits, list(self.branch_sizes), 1)]
        return PolicyDistribution(continuous, log_probs, branches, next_memories)

    def forward(
        self,
        observations: Sequence[torch.Tensor],
        masks: torch.Tensor | None,
        deterministic: bool = False,
        memories: torch.Tensor | None = None,
    ) -> ActionSample:
        policy = self.distribution(observations, masks, deterministic, memories)
        discrete = [
            branch.argmax(dim=1, keepdim=True) if deterministic else torch.multinomial(branch.exp(), 1)
            for branch in policy.branch_log_probs
        ]
        batch = policy.continuous.shape[0]
        actions = torch.cat(discrete, dim=1) if discrete else torch.zeros(batch, 0, dtype=torch.long)
        chosen = [branch.gather(1, actions[:, i : i + 1]) for i, branch in enumerate(policy.branch_log_probs)]
        entropy = -policy.continuous_log_probs.sum(dim=1)
        for branch in policy.branch_log_probs:
            entropy = entropy - (branch.exp() * branch).sum(dim=1)
        return ActionSample(
            continuous=policy.continuous * CONTINUOUS_CLIP,
            discrete=actions.to(policy.continuous.device),
            log_probs=torch.cat([policy.continuous_log_probs, *chosen], dim=1),
            entropy=entropy,
            memories=policy.memories,
        )

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)


class ActionValueNetwork(MemoryNetwork):
    """Q(s, a) per reward signal, built as ML-Agents builds it: the continuous actions join the processed
    observations at the input of the dense layers, and one linear head gives for each signal one value per
    discrete action of every branch (discrete or hybrid actions) or a single value (continuous only).
    With memory, sequences of ``sequence_length`` start from zero memories."""

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        action_spec: ActionSpec,
    ):
        super().__init__()
        self.stream_names = list(stream_names)
        continuous = action_spec.continuous_size
        self.encoder = ObservationEncoder(observation_specs, settings, extra_inputs=continuous)
        self.memory = optional_memory(self.encoder.output_size, settings)
        hidden = self.memory.output_size if self.memory is not None else self.encoder.output_size
        self.outputs = sum(action_spec.discrete_branches) or 1
        self.head = nn.Linear(hidden, self.outputs * len(self.stream_names))

    def forward(
        self, observations: Sequence[torch.Tensor], continuous: torch.Tensor, sequence_length: int = 1
    ) -> dict[str, torch.Tensor]:
        """Per signal: [batch, outputs]."""
        hidden, _ = self.remember(self.encoder(observations, continuous), None, sequence_length)
        q_values = self.head(hidden)
        if len(self.stream_names) == 1:  # the head's output as it is: no split (and no backward node for it)
            return {self.stream_names[0]: q_values}
        return dict(zip(self.stream_names, q_values.split(self.outputs, dim=1), strict=True))

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)


class TwinQNetworks(nn.Module):
    """Two independently initialised action-value networks; SAC uses their minimum against overestimation."""

    def __init__(
        self,
        stream_names: Sequence[str],
        observation_specs: Sequence[ObservationSpec],
        settings: NetworkSettings,
        action_spec: ActionSpec,
    ):
        super().__init__()
        self.q1 = ActionValueNetwork(stream_names, observation_specs, settings, action_spec)
        self.q2 = ActionValueNetwork(stream_names, observation_specs, settings, action_spec)

    def forward(
        self, observations: Sequence[torch.Tensor], continuous: torch.Tensor, sequence_length: int = 1
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        q1 = self.q1(observations, continuous, sequence_length)
        return q1, self.q2(observations, continuous, sequence_length)

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.q1.update_normalization(observations)
        self.q2.update_normalization(observations)
