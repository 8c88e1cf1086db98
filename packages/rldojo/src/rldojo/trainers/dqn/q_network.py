"""The Q-network: one Q-value per action of every discrete branch, acting epsilon-greedily within masks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mlagents_envs.base_env import ActionSpec, ObservationSpec
from torch import nn

from rldojo.networks import ActionSample, ObservationEncoder
from rldojo.settings import NetworkSettings

__all__ = ["QNetwork", "greedy_actions"]


def _branches(values: torch.Tensor, branch_sizes: Sequence[int]) -> tuple[torch.Tensor, ...]:
    return torch.split(values, list(branch_sizes), dim=1)


def greedy_actions(q_values: torch.Tensor, masks: torch.Tensor, branch_sizes: Sequence[int]) -> torch.Tensor:
    """[batch, num_branches] int64: per branch, the allowed action (mask 1) with the highest Q-value."""
    masked = q_values.masked_fill(masks < 0.5, -torch.inf)
    return torch.stack([branch.argmax(dim=1) for branch in _branches(masked, branch_sizes)], dim=1)


class QNetwork(nn.Module):
    """Observations -> Q-values [batch, sum(branch sizes)]; each branch is its own action dimension.

    Called like :class:`~rldojo.networks.Actor`, so a :class:`~rldojo.policy.Policy` can act with it:
    a random allowed action with probability :attr:`epsilon` per branch, otherwise the greedy one.
    """

    def __init__(
        self, observation_specs: Sequence[ObservationSpec], settings: NetworkSettings, action_spec: ActionSpec
    ):
        super().__init__()
        self.branch_sizes = tuple(int(size) for size in action_spec.discrete_branches)
        self.encoder = ObservationEncoder(observation_specs, settings)
        self.q_head = nn.Linear(self.encoder.output_size, sum(self.branch_sizes))
        self.epsilon = 0.0
        """Exploration rate of :meth:`forward`; the trainer sets it from its schedule."""

    def q_values(self, observations: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.q_head(self.encoder(observations))

    def forward(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = False
    ) -> ActionSample:
        """Epsilon-greedy actions (greedy when ``deterministic``); masked actions (0 in ``masks``) never.

        ``log_probs`` and ``entropy`` are those of the epsilon-greedy distribution over allowed actions.
        """
        q_values = self.q_values(observations)
        if masks is None:
            masks = torch.ones_like(q_values)
        greedy = greedy_actions(q_values, masks, self.branch_sizes)
        epsilon = 0.0 if deterministic else self.epsilon
        batch = q_values.shape[0]
        if epsilon == 0.0:  # the greedy action has probability 1
            certain = q_values.new_zeros(batch, len(self.branch_sizes))
            return ActionSample(q_values.new_zeros(batch, 0), greedy, certain, certain.sum(dim=1))
        actions, log_probs, entropy = [], [], []
        for index, allowed in enumerate(_branches(masks, self.branch_sizes)):
            allowed = (allowed > 0.5).float()
            greedy_branch = greedy[:, index : index + 1]
            probs = epsilon * allowed / allowed.sum(dim=1, keepdim=True).clamp(min=1.0)
            greedy_share = torch.full_like(greedy_branch, 1.0 - epsilon, dtype=probs.dtype)
            probs = probs.scatter_add(1, greedy_branch, greedy_share)
            action = torch.multinomial(probs, 1) if epsilon > 0.0 else greedy_branch
            actions.append(action)
            log_probs.append(torch.log(probs.gather(1, action)))
            entropy.append(-torch.special.xlogy(probs, probs).sum(dim=1))
        return ActionSample(
            continuous=q_values.new_zeros(batch, 0),
            discrete=torch.cat(actions, dim=1),
            log_probs=torch.cat(log_probs, dim=1),
            entropy=torch.stack(entropy, dim=1).sum(dim=1),
        )

    def update_normalization(self, observations: Sequence[torch.Tensor]) -> None:
        self.encoder.update_normalization(observations)
