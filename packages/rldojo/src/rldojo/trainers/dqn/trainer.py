"""DQN: Huber TD error per action branch, (double) DQN targets, a target network, clipped gradients,
epsilon-greedy acting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from torch import nn

from rldojo.buffer import next_obs_key, observations
from rldojo.errors import ConfigError
from rldojo.networks import PlainMLP, default_device
from rldojo.settings import TrainerSettings
from rldojo.trainers.dqn.q_network import QNetwork
from rldojo.trainers.dqn.settings import TRAINER_NAME, DQNSettings
from rldojo.trainers.off_policy import OffPolicyTrainer
from rldojo.trainers.optimizer import (
    HandGradients,
    Optimizer,
    TargetNetwork,
    UpdateStats,
    adam,
    adam_step,
    clip_grad_norm,
)
from rldojo.trainers.schedules import DecayedValue
from rldojo.trajectory import Trajectory
from rldojo.value_based_policy import ValueBasedPolicy, greedy_actions

__all__ = [
    "TD_TARGETS",
    "DQNOptimizer",
    "DQNTrainer",
    "branch_offsets",
    "chosen_q_values",
    "huber_gradient",
    "td_targets",
]

TD_TARGETS = "td_targets"
"""Batch column of TD targets computed for a whole burst (:meth:`DQNOptimizer.prepare_burst`)."""
TARGET_ROWS = 1024
"""Rows per pass of the target network over a burst (1024 x 256 hidden units: 1 MiB per layer output)."""


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
    offsets: torch.Tensor | None = None,
) -> torch.Tensor:
    """One-step targets [batch, num_branches]: r + gamma * (1 - done) * Q_target(s', a'), where a' is the best
    allowed action under the online network (double DQN: ``next_q_online`` given) or under the target network
    itself (DQN: ``next_q_online`` None). ``offsets``: :func:`branch_offsets`, made here when not given."""
    chooser = next_q_target if next_q_online is None else next_q_online
    next_actions = greedy_actions(chooser, next_masks, branch_sizes)
    if offsets is None:
        offsets = branch_offsets(branch_sizes, rewards.device)
    next_values = chosen_q_values(next_q_target, next_actions, offsets)
    return rewards.unsqueeze(1) + gamma * (1.0 - dones.unsqueeze(1)) * next_values


def huber_gradient(errors: torch.Tensor) -> torch.Tensor:
    """d / d ``errors`` of the mean Huber loss (``smooth_l1_loss``, delta 1) of ``errors`` = Q - target:
    the error clipped to [-1, 1], over the number of errors."""
    return errors.clamp(-1.0, 1.0).mul_(1.0 / errors.numel())


class DQNOptimizer(Optimizer[DQNSettings, ValueBasedPolicy[QNetwork]]):
    """Adam on the online Q-network; the target network follows it after every gradient update unless
    ``target_update_interval`` is given (then the trainer updates it every that many environment steps)."""

    def __init__(self, policy: ValueBasedPolicy[QNetwork], trainer_settings: TrainerSettings):
        super().__init__(policy, trainer_settings)
        hp = self.hyperparameters
        self.q_network = policy.actor
        self.target = TargetNetwork(self.q_network)
        self.target_network = self.target.network
        self.parameters = list(self.q_network.parameters())
        self.optimizer = adam(self.parameters, hp)
        self.decay_learning_rate = DecayedValue(
            hp.learning_rate_schedule, hp.learning_rate, 1e-10, trainer_settings.max_steps
        )
        if list(self.reward_signals) != ["extrinsic"]:
            raise ConfigError(
                f"not supported yet: reward signals {sorted(self.reward_signals)} with trainer_type dqn (it "
                "learns from the extrinsic reward alone); use ppo, a2c or sac for the others"
            )
        self.reward_signal = trainer_settings.reward_signals["extrinsic"]
        self.num_obs = len(policy.behavior_spec.observation_specs)
        self.offsets = branch_offsets(self.q_network.branch_sizes, policy.device)
        plain = type(self.q_network).forward is QNetwork.forward  # a subclass may compute Q its own way
        q_mlp = PlainMLP.of(self.q_network.encoder, self.q_network.q_head) if plain else None
        self.by_hand = None if q_mlp is None else HandGradients.of([q_mlp], self.optimizer, hp.max_grad_norm)
        """Gradient steps without autograd where the Q-network is a plain MLP; None: autograd."""
        self.target_values = self.target_network.acting_forward() if plain else self.target_network
        """The target network's Q-values, without a module call per layer where it is a plain MLP."""

    @property
    def targets_fixed_in_burst(self) -> bool:
        """Whether TD targets depend only on weights that no update of a burst changes: the target network
        is copied between bursts (``target_update_interval``, in environment steps) and the online network
        does not choose the next actions (no double DQN)."""
        hp = self.hyperparameters
        return hp.target_update_interval is not None and not hp.double_dqn

    @torch.no_grad()
    def targets(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """TD targets [batch, num_branches] of the batch's transitions (see :func:`td_targets`)."""
        next_obs = observations(batch, self.num_obs, next_obs_key)
        return td_targets(
            batch["rewards"] * self.reward_signal.strength,
            batch["dones"],
            self.reward_signal.gamma,
            self.q_network(next_obs) if self.hyperparameters.double_dqn else None,
            self.target_values(next_obs),
            batch["next_action_masks"],
            self.q_network.branch_sizes,
            self.offsets,
        )

    def prepare_burst(self, batch: dict[str, torch.Tensor], steps: int) -> dict[str, torch.Tensor]:
        """With :attr:`targets_fixed_in_burst`, the whole burst's TD targets in passes of the target network
        over :data:`TARGET_ROWS` rows at a time (``td_targets``): the same values as one pass per batch,
        with fewer operations, and without the burst-sized temporaries whose fresh memory costs more than
        their arithmetic."""
        if steps > 1 and self.targets_fixed_in_burst:
            rows = len(batch["rewards"])
            chunks = [
                self.targets({key: column[start : start + TARGET_ROWS] for key, column in batch.items()})
                for start in range(0, rows, TARGET_ROWS)
            ]
            return batch | {TD_TARGETS: chunks[0] if len(chunks) == 1 else torch.cat(chunks)}
        return batch

    def update(self, batch: dict[str, torch.Tensor], step: int) -> UpdateStats:
        targets = batch[TD_TARGETS] if TD_TARGETS in batch else self.targets(batch)
        obs, lr = observations(batch, self.num_obs), self.decay_learning_rate(step)
        if self.by_hand is not None:
            q_values, saved = self.by_hand.networks[0].forward(obs)
            columns = batch["discrete_actions"].long() + self.offsets
            q_taken = q_values.gather(1, columns)
            q_gradient = torch.zeros_like(q_values).scatter_(1, columns, huber_gradient(q_taken - targets))
            self.by_hand.step([(saved, q_gradient)], lr)
            loss = nn.functional.smooth_l1_loss(q_taken, targets)
        else:
            q_taken = chosen_q_values(self.q_network(obs), batch["discrete_actions"], self.offsets)
            loss = nn.functional.smooth_l1_loss(q_taken, targets)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            self.optimizer.zero_grad()
            loss.backward()
            clip_grad_norm(self.parameters, self.hyperparameters.max_grad_norm)
            adam_step(self.optimizer)
        if self.hyperparameters.target_update_interval is None:
            self.update_target_network()
        return {
            "Losses/Value Loss": loss.detach(),
            "Policy/Q Value": q_taken.detach().mean(),
            "Policy/Learning Rate": lr,
        }

    @torch.no_grad()
    def update_target_network(self) -> None:
        """target <- tau * online + (1 - tau) * target for weights; normalizer statistics are copied."""
        self.target.follow(self.hyperparameters.tau)

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        return {"Optimizer:value_optimizer": self.optimizer, "Optimizer:target_network": self.target_network}


class DQNTrainer(OffPolicyTrainer[DQNSettings, ValueBasedPolicy[QNetwork]]):
    """Deep Q-learning for discrete (multi-branch, masked) actions with an epsilon-greedy schedule."""

    optimizer: DQNOptimizer

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        hp = self.hyperparameters
        self.exploration = DecayedValue(
            hp.exploration_schedule,
            hp.exploration_initial_eps,
            hp.exploration_final_eps,
            hp.exploration_steps,
        )
        self.target_updates = 0
        """Target network updates done by ``target_update_interval`` (environment steps)."""

    def create_policy(
        self, parsed_behavior_id: str, behavior_spec: BehaviorSpec
    ) -> ValueBasedPolicy[QNetwork]:
        continuous = behavior_spec.action_spec.continuous_size
        if continuous:
            raise ConfigError(
                f"behavior {self.behavior_name} has {continuous} continuous action(s), but trainer_type dqn "
                "needs discrete actions only; use ppo or sac for it"
            )
        network = self.trainer_settings.network_settings
        q_network = QNetwork(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return ValueBasedPolicy(
            behavior_spec, q_network, default_device(), deterministic=network.deterministic
        )

    def create_optimizer(self) -> DQNOptimizer:
        assert self.policy is not None
        return DQNOptimizer(self.policy, self.trainer_settings)

    def add_policy(self, parsed_behavior_id: str, policy: ValueBasedPolicy[QNetwork]) -> None:
        super().add_policy(parsed_behavior_id, policy)
        self._set_exploration()

    def _set_exploration(self) -> None:
        """While training: uniformly random actions before ``buffer_init_steps`` (as SB3 acts before
        ``learning_starts``), then the epsilon of the current step; greedy otherwise (``--inference``)."""
        assert self.policy is not None
        if not self.is_training:
            epsilon = 0.0
        elif self._step < self.hyperparameters.buffer_init_steps:
            epsilon = 1.0
        else:
            epsilon = self.exploration(self._step)
        self.policy.epsilon = epsilon
        self.stats_reporter.add_stat("Policy/Exploration Epsilon", epsilon)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """The replay buffer gets the transitions; epsilon follows the new step; the target network is
        updated once per ``target_update_interval`` environment steps passed, if one is given."""
        super()._process_trajectory(trajectory)
        self._set_exploration()
        interval = self.hyperparameters.target_update_interval
        if interval is not None and self.is_training:
            due = self._step // interval
            for _ in range(due - self.target_updates):
                self.optimizer.update_target_network()
            self.target_updates = due

    def transitions(self, trajectory: Trajectory) -> dict[str, Any]:
        """Adds ``next_action_masks``: the mask of each next state. The state after a trajectory's last
        step is not part of it, so there every action counts as allowed."""
        masks = trajectory.action_masks
        next_masks = np.concatenate([masks[1:], np.ones_like(masks[:1])])
        return super().transitions(trajectory) | {"next_action_masks": next_masks}

    def _trainer_state(self) -> dict[str, Any]:
        return {**super()._trainer_state(), "target_updates": self.target_updates}

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        super()._load_trainer_state(state)
        self.target_updates = int(state.get("target_updates", 0))  # absent before target_update_interval

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
