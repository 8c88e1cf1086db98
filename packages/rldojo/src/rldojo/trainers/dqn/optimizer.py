"""DQN losses: Huber TD error per action branch, (double) DQN targets, a target network, clipped gradients."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from rldojo.buffer import next_obs_key, observations
from rldojo.policy import Policy
from rldojo.settings import TrainerSettings
from rldojo.trainers.dqn.q_network import QNetwork, greedy_actions
from rldojo.trainers.dqn.settings import DQNSettings
from rldojo.trainers.optimizer import Optimizer
from rldojo.trainers.schedules import DecayedValue

__all__ = ["DQNOptimizer", "branch_offsets", "chosen_q_values", "td_targets"]


def branch_offsets(branch_sizes: Sequence[int], device: torch.device | None = None) -> torch.Tensor:
    """[num_branches]: the column of each branch's first action in a row of Q-values."""
    return torch.tensor([0, *branch_sizes[:-1]], device=device).cumsum(0)


def chosen_q_values(q_values: torch.Tensor, actions: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """[batch, num_branches]: the Q-value of each branch's action; ``q_values`` holds every branch and
    ``offsets`` is :func:`branch_offsets`."""
    return q_values.gather(1, actions.long() + offsets)


def td_targets(
    rewards: torch.Tensor,
    dones: torch.Tensor,
    gamma: float,
    next_q_online: torch.Tensor | None,
    next_q_target: torch.Tensor,
    next_masks: torch.Tensor,
    branch_sizes: Sequence[int],
) -> torch.Tensor:
    """One-step targets [batch, num_branches]: r + gamma * (1 - done) * Q_target(s', a'), where a' is the best
    allowed action under the online network (double DQN: ``next_q_online`` given) or under the target network
    itself (DQN: ``next_q_online`` None)."""
    chooser = next_q_target if next_q_online is None else next_q_online
    next_actions = greedy_actions(chooser, next_masks, branch_sizes)
    next_values = chosen_q_values(next_q_target, next_actions, branch_offsets(branch_sizes, rewards.device))
    return rewards.unsqueeze(1) + gamma * (1.0 - dones.unsqueeze(1)) * next_values


class DQNOptimizer(Optimizer):
    """Adam on the online Q-network; the target network follows it every ``target_update_interval``
    gradient updates."""

    def __init__(self, policy: Policy, trainer_settings: TrainerSettings):
        super().__init__(policy, trainer_settings)
        hp: DQNSettings = trainer_settings.hyperparameters  # type: ignore[assignment]
        self.hyperparameters = hp
        self.q_network: QNetwork = policy.actor  # type: ignore[assignment]
        self.target_network = copy.deepcopy(self.q_network).requires_grad_(False)
        self.parameters = list(self.q_network.parameters())
        self.optimizer = torch.optim.Adam(self.parameters, lr=hp.learning_rate, fused=True)
        # (target, online) tensors: weights follow by tau, normalizer statistics are copied
        self.weight_pairs = list(zip(self.target_network.parameters(), self.parameters, strict=True))
        self.buffer_pairs = list(zip(self.target_network.buffers(), self.q_network.buffers(), strict=True))
        self.decay_learning_rate = DecayedValue(
            hp.learning_rate_schedule, hp.learning_rate, 1e-10, trainer_settings.max_steps
        )
        self.reward_signal = trainer_settings.reward_signals["extrinsic"]
        self.num_obs = len(policy.behavior_spec.observation_specs)
        self.offsets = branch_offsets(self.q_network.branch_sizes, policy.device)
        self.num_updates = 0

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        branch_sizes = self.q_network.branch_sizes
        obs = observations(batch, self.num_obs)
        next_obs = observations(batch, self.num_obs, next_obs_key)
        with torch.no_grad():
            targets = td_targets(
                batch["rewards"] * self.reward_signal.strength,
                batch["dones"],
                self.reward_signal.gamma,
                self.q_network.q_values(next_obs) if self.hyperparameters.double_dqn else None,
                self.target_network.q_values(next_obs),
                batch["next_action_masks"],
                branch_sizes,
            )
        q_taken = chosen_q_values(self.q_network.q_values(obs), batch["discrete_actions"], self.offsets)
        loss = nn.functional.smooth_l1_loss(q_taken, targets)

        lr = self.decay_learning_rate(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(self.parameters, self.hyperparameters.max_grad_norm)
        self.optimizer.step()
        self.num_updates += 1
        if self.num_updates % self.hyperparameters.target_update_interval == 0:
            self.update_target_network()
        return {
            "Losses/Value Loss": loss.item(),
            "Policy/Q Value": q_taken.mean().item(),
            "Policy/Learning Rate": lr,
        }

    @torch.no_grad()
    def update_target_network(self) -> None:
        """target <- tau * online + (1 - tau) * target for weights; normalizer statistics are copied."""
        for target_weight, online_weight in self.weight_pairs:
            target_weight.lerp_(online_weight, self.hyperparameters.tau)
        for target_buffer, online_buffer in self.buffer_pairs:
            target_buffer.copy_(online_buffer)

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"Optimizer:value_optimizer": self.optimizer, "Optimizer:target_network": self.target_network}
