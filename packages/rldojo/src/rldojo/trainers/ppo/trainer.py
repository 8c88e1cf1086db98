"""PPOTrainer."""

from __future__ import annotations

import numpy as np
from mlagents_envs.base_env import BehaviorSpec

from rldojo.buffer import obs_key
from rldojo.networks import Actor, default_device
from rldojo.policy import Policy
from rldojo.trainers.on_policy import OnPolicyTrainer
from rldojo.trainers.ppo.optimizer import PPOOptimizer
from rldojo.trainers.ppo.settings import TRAINER_NAME
from rldojo.trainers.returns import gae
from rldojo.trajectory import Trajectory

__all__ = ["PPOTrainer"]


class PPOTrainer(OnPolicyTrainer):
    """Proximal Policy Optimization with ML-Agents' semantics and defaults."""

    optimizer: PPOOptimizer

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy:
        network = self.trainer_settings.network_settings
        actor = Actor(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return Policy(behavior_spec, actor, default_device(), deterministic=network.deterministic)

    def create_optimizer(self) -> PPOOptimizer:
        assert self.policy is not None
        return PPOOptimizer(self.policy, self.trainer_settings)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        """Value estimates, per-signal GAE and returns; the trajectory then joins the update buffer."""
        super()._process_trajectory(trajectory)
        assert self.policy is not None
        obs = self.policy.to_tensors(trajectory.obs)
        if self.is_training:
            self.policy.actor.update_normalization(obs)
            self.optimizer.critic.update_normalization(obs)
        next_obs = self.policy.to_tensors(trajectory.next_obs)
        values, bootstrap = self.optimizer.value_estimates(obs, next_obs, trajectory.terminated)

        columns = {obs_key(i): o for i, o in enumerate(trajectory.obs)} | {
            "continuous_actions": trajectory.continuous_actions,
            "discrete_actions": trajectory.discrete_actions,
            "log_probs": trajectory.log_probs,
            "action_masks": trajectory.action_masks,
        }
        advantages = []
        for name, signal in self.trainer_settings.reward_signals.items():
            rewards = trajectory.rewards * signal.strength
            self._add_episode_reward(name, trajectory, rewards.sum())
            signal_advantages = gae(
                rewards, values[name], bootstrap[name], signal.gamma, self.hyperparameters.lambd
            )
            columns[f"values_{name}"] = values[name]
            columns[f"returns_{name}"] = signal_advantages + values[name]
            advantages.append(signal_advantages)
            self.stats_reporter.add_stat(f"Policy/{name.title()} Value Estimate", float(values[name].mean()))
        columns["advantages"] = np.mean(advantages, axis=0)
        if self.is_training:
            self.update_buffer.append(columns)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME
