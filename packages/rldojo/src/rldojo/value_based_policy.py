"""ValueBasedPolicy: acting from Q-values, greedy or epsilon-greedy, for DQN-like trainers.

The policy's network is a plain Q-function: ``q_network(observations)`` returns Q-values
[batch, sum(branch sizes)], one per action of every discrete branch. The policy chooses actions from
them within the action masks; ONNX export traces only the greedy (deterministic) choice.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.networks import ActionSample
from rldojo.policy import NetworkT, Policy

__all__ = ["GreedyActions", "ValueBasedPolicy", "greedy_actions"]


def _branches(values: torch.Tensor, branch_sizes: Sequence[int]) -> tuple[torch.Tensor, ...]:
    return torch.split(values, list(branch_sizes), dim=1)


def greedy_actions(q_values: torch.Tensor, masks: torch.Tensor, branch_sizes: Sequence[int]) -> torch.Tensor:
    """[batch, num_branches] int64: per branch, the allowed action (mask 1) with the highest Q-value."""
    masked = q_values.masked_fill(masks < 0.5, -torch.inf)
    return torch.stack([branch.argmax(dim=1) for branch in _branches(masked, branch_sizes)], dim=1)


def _certain(greedy: torch.Tensor, q_values: torch.Tensor) -> ActionSample:
    """The greedy actions as a sample of probability 1 (log-probability 0, entropy 0)."""
    certain = q_values.new_zeros(greedy.shape)
    return ActionSample(q_values.new_zeros(len(greedy), 0), greedy, certain, certain.sum(dim=1))


class GreedyActions(nn.Module):
    """What ONNX export traces for a value-based policy: the greedy action within the masks, whatever
    ``deterministic`` asks for (Unity then acts greedily whichever output it reads)."""

    def __init__(self, q_network: nn.Module, branch_sizes: Sequence[int]):
        super().__init__()
        self.q_network = q_network
        self.branch_sizes = tuple(branch_sizes)

    def forward(
        self, observations: Sequence[torch.Tensor], masks: torch.Tensor | None, deterministic: bool = True
    ) -> ActionSample:
        q_values = self.q_network(observations)
        if masks is None:
            masks = torch.ones_like(q_values)
        return _certain(greedy_actions(q_values, masks, self.branch_sizes), q_values)


class ValueBasedPolicy(Policy[NetworkT]):
    """Acts from the Q-values of ``actor`` (a Q-network): a random allowed action with probability
    :attr:`epsilon` per branch, otherwise the greedy one; always greedy when deterministic."""

    def __init__(
        self, behavior_spec: BehaviorSpec, actor: NetworkT, device: torch.device, deterministic: bool = False
    ):
        super().__init__(behavior_spec, actor, device, deterministic)
        self.epsilon = 0.0
        """Exploration rate; the trainer sets it from its schedule (0 for ``--inference``)."""

    def sample_actions(
        self, observations: list[torch.Tensor], masks: torch.Tensor | None, deterministic: bool
    ) -> ActionSample:
        """Epsilon-greedy actions; masked actions (0 in ``masks``) never. ``log_probs`` and ``entropy`` are
        those of the epsilon-greedy distribution over allowed actions."""
        q_values = self.actor(observations)
        if masks is None:
            masks = torch.ones_like(q_values)
        greedy = greedy_actions(q_values, masks, self.branch_sizes)
        epsilon = 0.0 if deterministic else self.epsilon
        if epsilon == 0.0:
            return _certain(greedy, q_values)
        actions, log_probs, entropy = [], [], []
        for index, allowed in enumerate(_branches(masks, self.branch_sizes)):
            allowed = (allowed > 0.5).float()
            greedy_branch = greedy[:, index : index + 1]
            probs = epsilon * allowed / allowed.sum(dim=1, keepdim=True).clamp(min=1.0)
            greedy_share = torch.full_like(greedy_branch, 1.0 - epsilon, dtype=probs.dtype)
            probs = probs.scatter_add(1, greedy_branch, greedy_share)
            action = torch.multinomial(probs, 1)
            actions.append(action)
            log_probs.append(torch.log(probs.gather(1, action)))
            entropy.append(-torch.special.xlogy(probs, probs).sum(dim=1))
        return ActionSample(
            continuous=q_values.new_zeros(len(q_values), 0),
            discrete=torch.cat(actions, dim=1),
            log_probs=torch.cat(log_probs, dim=1),
            entropy=torch.stack(entropy, dim=1).sum(dim=1),
        )

    def export_network(self) -> nn.Module:
        """The greedy choice only: the epsilon-greedy branch is never traced."""
        return GreedyActions(self.actor, self.branch_sizes)
