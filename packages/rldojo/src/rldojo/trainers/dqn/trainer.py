"""DQNTrainer."""

from __future__ import annotations

from typing import Any

import numpy as np
from mlagents_envs.base_env import BehaviorSpec

from rldojo.errors import ConfigError
from rldojo.networks import default_device
from rldojo.policy import Policy
from rldojo.trainers.dqn.optimizer import DQNOptimizer
from rldojo.trainers.dqn.q_network import QNetwork
from rldojo.trainers.dqn.settings import TRAINER_NAME, DQNSettings
from rldojo.trainers.off_policy import OffPolicyTrainer
from rldojo.trainers.schedules import DecayedValue
from rldojo.trajectory import Trajectory

__all__ = ["DQNTrainer"]


class DQNTrainer(OffPolicyTrainer):
    """Deep Q-learning for discrete (multi-branch, masked) actions with an epsilon-greedy schedule."""

    optimizer: DQNOptimizer
    hyperparameters: DQNSettings

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        hp = self.hyperparameters
        self.exploration = DecayedValue(
            hp.exploration_schedule,
            hp.exploration_initial_eps,
            hp.exploration_final_eps,
            hp.exploration_steps,
        )

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy:
        continuous = behavior_spec.action_spec.continuous_size
        if continuous:
            raise ConfigError(
                f"behavior {self.brain_name} has {continuous} continuous action(s), but trainer_type dqn "
                "needs discrete actions only; use ppo or sac for it"
            )
        network = self.trainer_settings.network_settings
        q_network = QNetwork(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return Policy(behavior_spec, q_network, default_device(), deterministic=network.deterministic)  # type: ignore[arg-type]

    def create_optimizer(self) -> DQNOptimizer:
        assert self.policy is not None
        return DQNOptimizer(self.policy, self.trainer_settings)

    def add_policy(self, parsed_behavior_id: str, policy: Policy) -> None:
        super().add_policy(parsed_behavior_id, policy)
        self._set_exploration()

    def _set_exploration(self) -> None:
        """Epsilon of the current step while training; greedy actions otherwise (``--inference``)."""
        assert self.policy is not None
        epsilon = self.exploration(self._step) if self.is_training else 0.0
        self.optimizer.q_network.epsilon = epsilon
        self.stats_reporter.add_stat("Policy/Exploration Epsilon", epsilon)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        super()._process_trajectory(trajectory)
        signal = self.trainer_settings.reward_signals["extrinsic"]
        self._add_episode_reward("extrinsic", trajectory, trajectory.rewards.sum() * signal.strength)
        self._set_exploration()

    @staticmethod
    def transitions(trajectory: Trajectory) -> dict[str, Any]:
        """Adds ``next_action_masks``: the mask of each next state. The state after a trajectory's last
        step is not part of it, so there every action counts as allowed."""
        masks = trajectory.action_masks
        next_masks = np.concatenate([masks[1:], np.ones_like(masks[:1])])
        return OffPolicyTrainer.transitions(trajectory) | {"next_action_masks": next_masks}

    def _trainer_state(self) -> dict[str, Any]:
        return {**super()._trainer_state(), "dqn_updates": self.optimizer.num_updates}

    def _load_trainer_state(self, state: dict[str, Any]) -> None:
        super()._load_trainer_state(state)
        self.optimizer.num_updates = int(state["dqn_updates"])

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
