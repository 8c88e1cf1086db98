"""An off-policy, value-based trainer plugin: n-step Q-learning with a hard-copied target network.

What it builds on: ``OffPolicyTrainer`` (the replay buffer, the ``steps_per_update`` cadence, the replay
buffer in checkpoints), ``transitions()`` as the override point for replay-batch columns, and
``ValueBasedPolicy``, the acting hook for Q-networks (epsilon-greedy while training, greedy in ONNX).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from pydantic import Field
from torch import nn

from rldojo.buffer import observations
from rldojo.errors import ConfigError
from rldojo.networks import default_device
from rldojo.settings import OffPolicyHyperparamSettings, TrainerSettings, YamlFloat, YamlInt
from rldojo.trainers import OffPolicyTrainer, Optimizer
from rldojo.trajectory import Trajectory
from rldojo.value_based_policy import ValueBasedPolicy

TRAINER_NAME = "nstep_q"


class NStepQSettings(OffPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: nstep_q`` behavior (plus the replay-buffer settings)."""

    n_steps: YamlInt = Field(3, gt=0)
    """Rewards summed before bootstrapping from the target network."""
    exploration_start: YamlFloat = Field(1.0, ge=0.0, le=1.0)
    """Epsilon at step 0."""
    exploration_end: YamlFloat = Field(0.05, ge=0.0, le=1.0)
    """Epsilon from ``exploration_steps`` on."""
    exploration_steps: YamlInt = Field(2000, gt=0)
    """Environment steps over which epsilon falls linearly."""
    target_copy_interval: YamlInt = Field(100, gt=0)
    """Gradient updates between two copies of the online network into the target network."""


class MLPQNetwork(nn.Module):
    """Vector observations -> one Q-value per action of the (single) discrete branch."""

    def __init__(self, spec: BehaviorSpec, hidden_units: int):
        super().__init__()
        inputs = sum(int(np.prod(obs.shape)) for obs in spec.observation_specs)
        actions = int(spec.action_spec.discrete_branches[0])
        self.layers = nn.Sequential(
            nn.Linear(inputs, hidden_units), nn.ReLU(), nn.Linear(hidden_units, actions)
        )

    def forward(self, observations: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.layers(torch.cat([obs.flatten(1) for obs in observations], dim=1))


class NStepQOptimizer(Optimizer[NStepQSettings, ValueBasedPolicy[MLPQNetwork]]):
    """Squared TD error of n-step targets; Adam on the online network, a hard copy as the target."""

    def __init__(self, policy: ValueBasedPolicy[MLPQNetwork], trainer_settings: TrainerSettings):
        super().__init__(policy, trainer_settings)
        self.target_network = MLPQNetwork(
            policy.behavior_spec, trainer_settings.network_settings.hidden_units
        )
        self.target_network.to(policy.device).load_state_dict(policy.actor.state_dict())
        self.target_network.requires_grad_(False)
        self.adam = torch.optim.Adam(policy.actor.parameters(), lr=self.hyperparameters.learning_rate)
        self.num_obs = len(policy.behavior_spec.observation_specs)
        self.num_updates = 0

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        """One step on Q(s_t, a_t) -> R_t^(n) + gamma^n * max_a Q_target(s_{t+n}, a) (0 after a terminal)."""
        obs = observations(batch, self.num_obs)
        horizon_obs = observations(batch, self.num_obs, lambda i: f"nstep_obs_{i}")
        with torch.no_grad():
            best_next = self.target_network(horizon_obs).max(dim=1).values
            targets = batch["nstep_returns"] + batch["nstep_discounts"] * best_next
        q_taken = self.policy.actor(obs).gather(1, batch["discrete_actions"][:, :1].long()).squeeze(1)
        loss = ((q_taken - targets) ** 2).mean()
        self.adam.zero_grad()
        loss.backward()
        self.adam.step()
        self.num_updates += 1
        if self.num_updates % self.hyperparameters.target_copy_interval == 0:
            self.target_network.load_state_dict(self.policy.actor.state_dict())
        return {"Losses/Value Loss": loss.item(), "Policy/Q Value": q_taken.mean().item()}

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """Saved in checkpoints next to the policy, so ``--resume`` restores them."""
        return {"Optimizer:target_network": self.target_network, "Optimizer:adam": self.adam}


class NStepQTrainer(OffPolicyTrainer[NStepQSettings, ValueBasedPolicy[MLPQNetwork]]):
    """Replays n-step transitions; acts epsilon-greedily with a linearly falling epsilon."""

    optimizer: NStepQOptimizer

    def create_policy(
        self, parsed_behavior_id: str, behavior_spec: BehaviorSpec
    ) -> ValueBasedPolicy[MLPQNetwork]:
        """A Q-network behind rldojo's value-based acting hook."""
        action_spec = behavior_spec.action_spec
        if action_spec.continuous_size or len(action_spec.discrete_branches) != 1:
            raise ConfigError(
                f"behavior {self.behavior_name}: trainer_type nstep_q needs exactly one discrete action "
                "branch and no continuous actions; use dqn for it"
            )
        network = MLPQNetwork(behavior_spec, self.trainer_settings.network_settings.hidden_units)
        return ValueBasedPolicy(behavior_spec, network, default_device())

    def create_optimizer(self) -> NStepQOptimizer:
        """The n-step TD loss above, over the trainer's policy."""
        assert self.policy is not None
        return NStepQOptimizer(self.policy, self.trainer_settings)

    def transitions(self, trajectory: Trajectory) -> dict[str, np.ndarray]:
        """rldojo's columns plus, per step t: ``nstep_returns`` (the discounted rewards of steps t..t+n-1
        within the trajectory), ``nstep_discounts`` (gamma^m for the m steps summed, 0 if the episode
        terminated within them) and ``nstep_obs_<i>`` (the observation to bootstrap from)."""
        gamma = self.trainer_settings.reward_signals["extrinsic"].gamma
        rewards, dones = trajectory.rewards, trajectory.dones()
        length = len(trajectory)
        ends = np.minimum(np.arange(length) + self.hyperparameters.n_steps, length)
        returns = np.array(
            [np.sum(rewards[t:end] * gamma ** np.arange(end - t)) for t, end in enumerate(ends)], np.float32
        )
        discounts = np.array(
            [0.0 if dones[end - 1] else gamma ** (end - t) for t, end in enumerate(ends)], np.float32
        )
        next_obs = trajectory.next_observations()
        return super().transitions(trajectory) | {
            "nstep_returns": returns,
            "nstep_discounts": discounts,
            **{f"nstep_obs_{i}": obs[ends - 1] for i, obs in enumerate(next_obs)},
        }

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """Replay the trajectory's transitions (``super()``), then move epsilon along its schedule."""
        super()._process_trajectory(trajectory)
        assert self.policy is not None
        hp = self.hyperparameters
        progress = min(self.get_step / hp.exploration_steps, 1.0)
        epsilon = hp.exploration_start + progress * (hp.exploration_end - hp.exploration_start)
        self.policy.epsilon = epsilon if self.is_training else 0.0
        self.stats_reporter.add_stat("Policy/Exploration Epsilon", self.policy.epsilon)

    def add_policy(self, parsed_behavior_id: str, policy: ValueBasedPolicy[MLPQNetwork]) -> None:
        """Start exploring at ``exploration_start`` (greedy with ``--inference``)."""
        super().add_policy(parsed_behavior_id, policy)
        policy.epsilon = self.hyperparameters.exploration_start if self.is_training else 0.0

    def _trainer_state(self) -> dict[str, Any]:
        """The replay buffer (``super()``) and the update count that times the target copies."""
        return {**super()._trainer_state(), "nstep_q_updates": self.optimizer.num_updates}

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`_trainer_state` saved."""
        super()._load_trainer_state(state)
        self.optimizer.num_updates = int(state["nstep_q_updates"])

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME


def get_type_and_setting() -> tuple[dict[str, type[NStepQTrainer]], dict[str, type[NStepQSettings]]]:
    """Registration function named by the ``rldojo.trainer_type`` entry point ``nstep_q``."""
    return {TRAINER_NAME: NStepQTrainer}, {TRAINER_NAME: NStepQSettings}
