"""A trainer plugin: vanilla policy gradient (REINFORCE with a learned baseline and GAE).

Three parts, as in rldojo's own PPO: the settings class (``hyperparameters:`` in the YAML), the
optimizer (the loss), and the trainer (turns trajectories into training columns).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from mlagents_envs.base_env import BehaviorSpec
from pydantic import Field
from torch import nn

from rldojo.buffer import obs_key, observations
from rldojo.networks import Actor, Critic, default_device
from rldojo.policy import Policy
from rldojo.settings import OnPolicyHyperparamSettings, TrainerSettings, YamlFloat, YamlInt
from rldojo.trainers import DecayedValue, OnPolicyTrainer, Optimizer
from rldojo.trainers.returns import gae
from rldojo.trajectory import Trajectory

TRAINER_NAME = "vpg"


class VPGSettings(OnPolicyHyperparamSettings):
    """``hyperparameters:`` of a ``trainer_type: vpg`` behavior (plus batch/buffer size, learning rate)."""

    beta: YamlFloat = Field(5.0e-3, ge=0.0)
    """Entropy bonus strength."""
    lambd: YamlFloat = Field(0.95, ge=0.0, le=1.0)
    """GAE lambda; 1.0 gives Monte Carlo returns minus the baseline."""
    num_epoch: YamlInt = Field(1, gt=0)
    """Passes over each buffer; plain policy gradient is only unbiased for the first one."""


class VPGOptimizer(Optimizer):
    """Policy-gradient loss with an entropy bonus, and a squared-error loss for the baseline."""

    def __init__(self, policy: Policy, trainer_settings: TrainerSettings):
        super().__init__(policy, trainer_settings)
        self.hyperparameters: VPGSettings = trainer_settings.hyperparameters  # type: ignore[assignment]
        spec = policy.behavior_spec
        self.critic = Critic(
            self.reward_signal_names, spec.observation_specs, trainer_settings.network_settings
        )
        self.critic.to(policy.device)
        self.optimizer = torch.optim.Adam(
            [*policy.actor.parameters(), *self.critic.parameters()], lr=self.hyperparameters.learning_rate
        )
        self.learning_rate = DecayedValue(
            self.hyperparameters.learning_rate_schedule,
            self.hyperparameters.learning_rate,
            1e-10,
            trainer_settings.max_steps,
        )
        self.num_obs = len(spec.observation_specs)

    @torch.no_grad()
    def value_estimates(
        self, obs: Sequence[torch.Tensor], next_obs: Sequence[torch.Tensor], terminated: bool
    ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Baseline values per reward signal, and the value after the last step (0 when it terminated)."""
        values = {name: value.cpu().numpy() for name, value in self.critic(obs).items()}
        bootstrap = {name: 0.0 if terminated else float(v[0]) for name, v in self.critic(next_obs).items()}
        return values, bootstrap

    def update(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        obs = observations(batch, self.num_obs)
        masks = batch["action_masks"] if self.policy.branch_sizes else None
        log_probs, entropy = self.policy.actor.evaluate(
            obs, masks, batch["continuous_actions"], batch["discrete_actions"]
        )
        policy_loss = -(log_probs.sum(dim=1) * batch["advantages"]).mean()
        values = self.critic(obs)
        value_loss = torch.stack(
            [((batch[f"returns_{name}"] - v) ** 2).mean() for name, v in values.items()]
        ).mean()
        loss = policy_loss + 0.5 * value_loss - self.hyperparameters.beta * entropy.mean()

        learning_rate = self.learning_rate(step)
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return {
            "Losses/Policy Loss": policy_loss.item(),
            "Losses/Value Loss": value_loss.item(),
            "Policy/Learning Rate": learning_rate,
        }

    def get_modules(self) -> dict[str, nn.Module | torch.optim.Optimizer]:
        """Saved in checkpoints next to the policy, so ``--resume`` restores them."""
        return {"Optimizer:value_optimizer": self.optimizer, "Optimizer:critic": self.critic}


class VPGTrainer(OnPolicyTrainer):
    """Collects ``buffer_size`` steps, computes advantages per trajectory, then updates once."""

    optimizer: VPGOptimizer

    def create_policy(self, parsed_behavior_id: str, behavior_spec: BehaviorSpec) -> Policy:
        network = self.trainer_settings.network_settings
        actor = Actor(behavior_spec.observation_specs, network, behavior_spec.action_spec)
        return Policy(behavior_spec, actor, default_device(), deterministic=network.deterministic)

    def create_optimizer(self) -> VPGOptimizer:
        assert self.policy is not None
        return VPGOptimizer(self.policy, self.trainer_settings)

    def _process_trajectory(self, trajectory: Trajectory) -> None:
        super()._process_trajectory(trajectory)  # step counting, summaries, checkpoints
        assert self.policy is not None
        obs = self.policy.to_tensors(trajectory.obs)
        if self.is_training:
            self.policy.actor.update_normalization(obs)
            self.optimizer.critic.update_normalization(obs)
        next_obs = self.policy.to_tensors(trajectory.next_obs)
        values, bootstrap = self.optimizer.value_estimates(obs, next_obs, trajectory.terminated)

        columns = {obs_key(index): o for index, o in enumerate(trajectory.obs)}
        columns |= {
            "continuous_actions": trajectory.continuous_actions,
            "discrete_actions": trajectory.discrete_actions,
            "action_masks": trajectory.action_masks,
        }
        advantages = []
        for name, signal in self.trainer_settings.reward_signals.items():
            rewards = trajectory.rewards * signal.strength
            self._add_episode_reward(name, trajectory, rewards.sum())
            signal_advantages = gae(
                rewards, values[name], bootstrap[name], signal.gamma, self.hyperparameters.lambd
            )
            columns[f"returns_{name}"] = signal_advantages + values[name]
            advantages.append(signal_advantages)
        columns["advantages"] = np.mean(advantages, axis=0)
        if self.is_training:
            self.update_buffer.append(columns)

    @staticmethod
    def get_trainer_name() -> str:
        return TRAINER_NAME


def get_type_and_setting() -> tuple[dict[str, type[VPGTrainer]], dict[str, type[VPGSettings]]]:
    """Registration function named by the ``rldojo.trainer_type`` entry point ``vpg``."""
    return {TRAINER_NAME: VPGTrainer}, {TRAINER_NAME: VPGSettings}
